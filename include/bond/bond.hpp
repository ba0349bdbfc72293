// bond: call functions of another language's interpreter (Python, ...) as if they were C++ ones.
// A Bond owns one co-process, started by make_bond(), driven over its stdin/stdout with the
// protocol of docs/protocol.md. A Bond is used from one thread at a time; different bonds run in
// parallel from different threads.
#pragma once

#include <bond/detail/arguments.hpp>
#include <bond/errors.hpp>
#include <bond/object.hpp>
#include <bond/options.hpp>
#include <bond/value.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

class Bond;

namespace detail {
class Session;
// Calls `name`, its result shaped by `keep`. The session by value: it must outlive a call during
// which its last other owner goes away. `limits`, when given, replace the bond's Options::limits
// field by field for this call.
Carried call_on(std::shared_ptr<Session> session,  // NOLINT(performance-unnecessary-value-param)
                std::string_view name, CallArguments arguments, Keep keep,
                const Limits* limits = nullptr);
// Converts a call's result to R; a failure is a local SerializationException.
template <class R>
R convert_result(const std::shared_ptr<Session>& session, std::string_view name,
                 const Value& result);
// Runs an operation on one of a bond's objects (a method call, an attribute read or write);
// returns or throws what the operation does.
using ObjectRunner = std::function<Carried(std::function<Carried()> operation)>;
// For programs that use each bond from one thread of its own (bondd): `runner` is given every
// operation on `bond`'s objects, whichever thread asks (another bond's, whose interpreter uses a
// proxy of the object), to run it on `bond`'s thread. Without one, it runs on the thread that
// asks, which must then not use the bond at the same time as another thread.
void set_object_runner(Bond& bond, ObjectRunner runner);
[[noreturn]] void throw_result_conversion(const std::shared_ptr<Session>& session,
                                          std::string_view name, const Value& result,
                                          const char* reason);
}  // namespace detail

// A remote callable expression as a C++ function object: f(args...) is bond.call(name, args...),
// f.invoke_object(args...) is bond.call_object(name, args...), f.invoke_result(args...) is
// bond.call_result(name, args...): called the way a callable bond::Object is.
class Function : public detail::callable_api<Function> {
  public:
    const std::string& name() const noexcept { return name_; }

  private:
    friend class Bond;
    friend class detail::callable_api<Function>;
    Function(std::shared_ptr<detail::Session> session, std::string name)
        : session_(std::move(session)), name_(std::move(name)) {}
    detail::Carried invoke_as(detail::CallArguments arguments, detail::Keep keep) const {
        return detail::call_on(session_, name_, std::move(arguments), keep);
    }
    std::shared_ptr<detail::Session> session_;
    std::string name_;
};

// The operations of one bond under limits of their own: Bond::with_limits({.wall = 2s}).call(...).
// Each field that is set replaces the bond's Options::limits field for these operations; unset
// fields keep the bond's. Limits apply to top-level operations: inside an exported function, a
// call back into the bond runs under the limits of the operation that called out.
class LimitedBond {
  public:
    Value eval(std::string_view code);
    void eval_block(std::string_view code, std::string_view file = {});
    template <class... A>
    Value call(std::string_view name, A&&... arguments) {
        return call_with(name, detail::make_arguments(std::forward<A>(arguments)...));
    }
    Value call_with(std::string_view name, detail::CallArguments arguments);
    // As Bond::eval_result and Bond::call_result: objects in the result kept remotely.
    Result eval_result(std::string_view code);
    template <class... A>
    Result call_result(std::string_view name, A&&... arguments) {
        return call_result_with(name, detail::make_arguments(std::forward<A>(arguments)...));
    }
    Result call_result_with(std::string_view name, detail::CallArguments arguments);
    const Limits& limits() const noexcept { return limits_; }

  private:
    friend class Bond;
    LimitedBond(std::shared_ptr<detail::Session> session, Limits limits)
        : session_(std::move(session)), limits_(limits) {}
    std::shared_ptr<detail::Session> session_;
    Limits limits_;
};

class Bond {
  public:
    Bond(Bond&&) noexcept;
    Bond& operator=(Bond&&) noexcept;
    Bond(const Bond&) = delete;
    Bond& operator=(const Bond&) = delete;
    ~Bond();  // closes

    // The value of one expression.
    Value eval(std::string_view code);
    Value eval(const Ref& code);
    // Runs statements at the top level of the interpreter; definitions persist. With a `file`
    // name, the code is that file's text: its errors name `file`, at the file's own lines.
    void eval_block(std::string_view code, std::string_view file = {});
    void eval_block(const Ref& code);

    // Calls `name`, any callable expression of the language, with the arguments converted by
    // to_json; a Ref argument is passed as code evaluated remotely.
    template <class... A>
    Value call(std::string_view name, A&&... arguments) {
        return call_with(name, detail::make_arguments(std::forward<A>(arguments)...));
    }
    Value call_with(std::string_view name, detail::CallArguments arguments);

    Function callable(std::string_view name);

    // The value of an expression kept in the interpreter: a handle to it, whatever it is.
    Object object(std::string_view code);
    // Calls `name` like call(), and keeps the result in the interpreter.
    template <class... A>
    Object call_object(std::string_view name, A&&... arguments) {
        return detail::kept_object(
            detail::call_on(session(), name, detail::make_arguments(std::forward<A>(arguments)...),
                            detail::Keep::Object));
    }
    // eval() and call() for results that may hold objects anywhere: JSON where it can carry the
    // value, an Object where it cannot.
    Result eval_result(std::string_view code);
    template <class... A>
    Result call_result(std::string_view name, A&&... arguments) {
        return detail::result_of(
            detail::call_on(session(), name, detail::make_arguments(std::forward<A>(arguments)...),
                            detail::Keep::Objects));
    }
    // How many objects the interpreter holds for this host (handles), and how many proxies of
    // other bonds' objects it was lent and has not collected yet; asks the interpreter.
    struct ObjectCounts {
        std::size_t held = 0;
        std::size_t lent = 0;
    };
    ObjectCounts object_counts();
    // Whether `object` is one of this bond's own (its interpreter holds the value), rather than
    // another bond's or a moved-from Object. Asks nothing of the interpreter.
    bool holds(const Object& object) const;

    // A typed callable: arguments converted in, the result converted out with get<R>(); with R
    // bond::Object, the result kept in the interpreter.
    template <class Sig>
    std::function<Sig> function(std::string_view name);

    // Makes `name` a native function of the remote code that runs `function` here. `function` is
    // Value(const Value& args_array) or any callable with typed parameters. Exporting a name again
    // replaces it.
    // A parameter of type bond::Object receives an object of the remote code (a proxy's
    // original, when the code passes one back), and a bond::Object result reaches the remote
    // code as the original or a proxy.
    template <class F>
    void export_function(std::string_view name, F&& function) {
        export_host(name, detail::adapt_export(std::forward<F>(function)));
    }
    void export_raw(std::string_view name, ExportedFunction function);
    void export_host(std::string_view name, detail::HostFunction function);
    // The names exported so far, sorted.
    std::vector<std::string> exports() const;

    // Makes `name` of this bond callable in `other` as `remote` (default: `name`).
    void proxy(std::string_view name, Bond& other, std::string_view remote = {});

    // Code of this bond's language, evaluated remotely where it is used.
    Ref ref(std::string_view code);

    // This bond's operations under other limits (see LimitedBond).
    LimitedBond with_limits(Limits limits);
    // Stops the operation running now; callable from any thread. The operation ends with
    // Interrupted; an idle bond is left alone. The Bond must outlive this call.
    void interrupt();

    void close();
    const std::string& lang() const;
    // The interpreter's version, as its driver reported it when it started ("3.11.2"); empty for
    // a moved-from Bond.
    const std::string& version() const;
    bool alive() const;
    // How many requests of this host are waiting for the remote right now: 0 when idle, 1 inside
    // an exported function called by a top-level call, and so on.
    std::size_t depth() const;
    // The process id of the program the bond started: the interpreter, or the first word of
    // Options::command (ssh, sudo, bwrap) in front of it. It stays the same after the bond ends;
    // -1 for a moved-from Bond.
    int pid() const;

  private:
    friend Bond make_bond(std::string_view lang, Options options);
    friend void detail::set_object_runner(Bond& bond, detail::ObjectRunner runner);
    explicit Bond(std::shared_ptr<detail::Session> session);
    // By value: the session outlives a call during which this Bond is destroyed or reassigned.
    std::shared_ptr<detail::Session> session() const;
    std::shared_ptr<detail::Session> session_;
};

// Starts an interpreter of `lang` (one of list_drivers(), case-insensitive, or an alias such as
// python3) and injects its driver. Unknown names throw BondException listing the known ones.
Bond make_bond(std::string_view lang, Options options = {});
// The canonical names of the languages this build can bond with.
std::vector<std::string> list_drivers();

template <class R>
R detail::convert_result(const std::shared_ptr<Session>& session, std::string_view name,
                         const Value& result) {
    try {
        return result.template get<R>();
    } catch (const std::exception& error) {  // nlohmann's, or a user from_json's
        throw_result_conversion(session, name, result, error.what());
    }
}

namespace detail {
template <class Sig>
struct typed_function;
template <class R, class... A>
struct typed_function<R(A...)> {
    static std::function<R(A...)> make(Function function, std::shared_ptr<Session> session) {
        if constexpr (!std::is_void_v<R> && !receivable<R>) {
            [[maybe_unused]] received_check<R> check;
            return {};
        } else {
            return [function = std::move(function),
                    session = std::move(session)](A... arguments) -> R {
                if constexpr (std::is_same_v<R, Object>) {  // the result kept in the interpreter
                    return function.invoke_object(std::forward<A>(arguments)...);
                } else {
                    Value result = function(std::forward<A>(arguments)...);
                    if constexpr (!std::is_void_v<R>)
                        return convert_result<R>(session, function.name(), result);
                }
            };
        }
    }
};
}  // namespace detail

template <class Sig>
std::function<Sig> Bond::function(std::string_view name) {
    return detail::typed_function<Sig>::make(callable(name), session());
}

}  // namespace bond
