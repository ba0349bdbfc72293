// The public Bond API: thin forwarding to the Session that does the work.
#include "driver_registry.hpp"
#include "session.hpp"

#include <csignal>

namespace bond {
namespace {

// Writing to a pipe whose reader died raises SIGPIPE, whose default action would kill the host.
// The error is then seen as EPIPE and reported as TerminatedException instead. A program that
// installed its own handler keeps it.
void ignore_sigpipe_once() {
    static const bool done = [] {
        struct sigaction current {};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
            std::signal(SIGPIPE, SIG_IGN);
        return true;
    }();
    (void)done;
}

const std::string no_language;

// Destructors and assignments must not throw. Closing is refused only from the bond's own
// on_output; the session then closes itself when the call delivering that output lets it go.
void close_for_owner(const std::shared_ptr<detail::Session>& session) noexcept {
    if (!session) return;
    try {
        session->close();
    } catch (const BondException&) {
    }
}

}  // namespace

namespace detail {

Carried call_on(std::shared_ptr<Session> session,  // NOLINT(performance-unnecessary-value-param)
                std::string_view name, CallArguments arguments, Keep keep, const Limits* limits) {
    if (!session) throw BondException("", "this bond was moved from");
    return session->call(name, std::move(arguments), keep, limits);
}

void set_object_runner(Bond& bond, ObjectRunner runner) {
    bond.session()->set_object_runner(std::move(runner));
}

void throw_result_conversion(const std::shared_ptr<Session>& session, std::string_view name,
                             const Value& result, const char* reason) {
    throw SerializationException(session ? session->lang() : no_language, "local",
                                 "cannot convert the result of " + std::string(name) + "() (" +
                                     result.type_name() + ") to the requested type: " + reason);
}

}  // namespace detail

Bond::Bond(std::shared_ptr<detail::Session> session) : session_(std::move(session)) {}
Bond::Bond(Bond&&) noexcept = default;
Bond& Bond::operator=(Bond&& other) noexcept {
    if (this != &other) {
        close_for_owner(session_);
        session_ = std::move(other.session_);
    }
    return *this;
}
Bond::~Bond() {
    close_for_owner(session_);
}

std::shared_ptr<detail::Session> Bond::session() const {
    if (!session_) throw BondException("", "this bond was moved from");
    return session_;
}

Value Bond::eval(std::string_view code) {
    return session()->request("eval", {{"code", code}});
}

Value Bond::eval(const Ref& code) {
    session()->check_ref_owner(code.owner());
    return eval(code.code());
}

namespace {
// eval_block's params: the file's name only when there is one (docs/protocol.md).
Value block_params(std::string_view code, std::string_view file) {
    Value params = {{"code", code}};
    if (!file.empty()) params["file"] = file;
    return params;
}
}  // namespace

void Bond::eval_block(std::string_view code, std::string_view file) {
    session()->request("eval_block", block_params(code, file));
}

void Bond::eval_block(const Ref& code) {
    session()->check_ref_owner(code.owner());
    eval_block(code.code());
}

Value Bond::call_with(std::string_view name, detail::CallArguments arguments) {
    return detail::call_on(session(), name, std::move(arguments), detail::Keep::Value).value;
}

Function Bond::callable(std::string_view name) {
    return Function(session(), std::string(name));
}

void Bond::export_raw(std::string_view name, ExportedFunction function) {
    // It sees an object of the remote code as its placeholder {"$handle": k}; one it returns
    // goes back as the object.
    export_host(name, detail::adapt_export(std::move(function)));
}

void Bond::export_host(std::string_view name, detail::HostFunction function) {
    session()->export_function(name, std::move(function));
}

Object Bond::object(std::string_view code) {
    return detail::kept_object(session()->eval(code, detail::Keep::Object));
}

Result Bond::eval_result(std::string_view code) {
    return detail::result_of(session()->eval(code, detail::Keep::Objects));
}

Bond::ObjectCounts Bond::object_counts() {
    auto session = this->session();
    Value held = session->request("count_objects", Value::object());
    return {held.is_number_unsigned() ? held.get<std::size_t>() : 0, session->lent_count()};
}

bool Bond::holds(const Object& object) const {
    const auto& state = detail::state_of(object);
    return state && session_ && state->owner.lock() == session_;
}

std::vector<std::string> Bond::exports() const {
    return session()->exports();
}

void Bond::proxy(std::string_view name, Bond& other, std::string_view remote) {
    // A weak reference: the proxy must not keep this bond's interpreter running.
    std::weak_ptr<detail::Session> source = session();
    std::string lang = source.lock()->lang();
    other.export_host(
        remote.empty() ? name : remote,
        [source, lang, target = std::string(name)](detail::Carried& args) -> detail::Carried {
            auto session = source.lock();
            if (!session || !session->alive())
                throw TerminatedException(lang, "the proxied bond is closed");
            detail::CallArguments arguments;
            arguments.values = std::move(args.value);
            arguments.objects = std::move(args.objects);
            return session->call(target, std::move(arguments), detail::Keep::Objects);
        });
}

Ref Bond::ref(std::string_view code) {
    return Ref(std::string(code), session()->id());
}

LimitedBond Bond::with_limits(Limits limits) {
    return LimitedBond(session(), limits);
}

void Bond::interrupt() {
    if (session_) session_->interrupt();
}

Value LimitedBond::eval(std::string_view code) {
    return session_->request("eval", {{"code", code}}, &limits_);
}

void LimitedBond::eval_block(std::string_view code, std::string_view file) {
    session_->request("eval_block", block_params(code, file), &limits_);
}

Value LimitedBond::call_with(std::string_view name, detail::CallArguments arguments) {
    return detail::call_on(session_, name, std::move(arguments), detail::Keep::Value, &limits_)
        .value;
}

Result LimitedBond::eval_result(std::string_view code) {
    return detail::result_of(session_->eval(code, detail::Keep::Objects, &limits_));
}

Result LimitedBond::call_result_with(std::string_view name, detail::CallArguments arguments) {
    return detail::result_of(
        detail::call_on(session_, name, std::move(arguments), detail::Keep::Objects, &limits_));
}

void Bond::close() {
    if (session_) session_->close();
}

const std::string& Bond::lang() const {
    return session_ ? session_->lang() : no_language;
}
const std::string& Bond::version() const {
    return session_ ? session_->version() : no_language;
}
bool Bond::alive() const {
    return session_ && session_->alive();
}
std::size_t Bond::depth() const {
    return session_ ? session_->depth() : 0;
}
int Bond::pid() const {
    return session_ ? session_->pid() : -1;
}

Bond make_bond(std::string_view lang, Options options) {
    const detail::DriverSpec& driver = detail::known_driver(lang);
    ignore_sigpipe_once();
    return Bond(std::make_shared<detail::Session>(driver, std::move(options)));
}

std::vector<std::string> list_drivers() {
    std::vector<std::string> names;
    for (const auto& driver : detail::all_drivers()) names.push_back(driver.name);
    return names;
}

}  // namespace bond
