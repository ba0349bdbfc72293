#include "json_parser.hpp"

#include "base64.hpp"
#include "jsonrpc.hpp"

#include <string>
#include <vector>

namespace bond::detail {
namespace {

// nlohmann's SAX interface, building the Value as its own DOM parser does, but moving strings
// and keys out of the lexer and turning $bytes objects into bytes on the way.
class ValueBuilder {
  public:
    ValueBuilder(Value& root, std::size_t max_depth, bool* tag_keys)
        : root_(root), max_depth_(max_depth), tag_keys_(tag_keys) {}

    bool null() { return add(nullptr); }
    bool boolean(bool value) { return add(value); }
    bool number_integer(Value::number_integer_t value) { return add(value); }
    bool number_unsigned(Value::number_unsigned_t value) { return add(value); }
    bool number_float(Value::number_float_t value, const Value::string_t&) { return add(value); }
    bool string(Value::string_t& value) { return add(std::move(value)); }
    bool binary(Value::binary_t& value) { return add(Value::binary(std::move(value))); }
    bool start_object(std::size_t) { return open(Value::object()); }
    bool key(Value::string_t& key) {
        if (tag_keys_ && !key.empty() && key[0] == '$' && !*tag_keys_)
            *tag_keys_ = key == "$obj" || key == "$yours" || key == "$code";
        key_ = std::move(key);
        return true;
    }
    bool end_object() {
        Value& object = *open_.back();
        open_.pop_back();
        take_bytes(object);
        return true;
    }
    bool start_array(std::size_t) { return open(Value::array()); }
    bool end_array() {
        open_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) {
        error_ = error.what();
        return false;
    }

    const std::string& error() const { return error_; }
    bool too_deep() const { return too_deep_; }

  private:
    Value* place(Value value) {
        if (open_.empty()) {
            root_ = std::move(value);
            return &root_;
        }
        Value& parent = *open_.back();
        if (parent.is_array()) {
            auto& elements = parent.get_ref<Value::array_t&>();
            elements.push_back(std::move(value));
            return &elements.back();
        }
        Value& slot =
            parent.get_ref<Value::object_t&>()[std::move(key_)];  // the last of a key wins
        slot = std::move(value);
        return &slot;
    }
    bool add(Value value) {
        place(std::move(value));
        return true;
    }
    // The open containers are those whose parents are not written to until they close, so the
    // pointers stay valid.
    bool open(Value container) {
        if (open_.size() >= max_depth_) {
            too_deep_ = true;
            return false;
        }
        open_.push_back(place(std::move(container)));
        return true;
    }
    static void take_bytes(Value& object) {
        if (object.size() != 1) return;
        auto bytes = object.find("$bytes");
        if (bytes == object.end() || !bytes->is_string()) return;
        // Not base64: an ordinary object that happens to have that key.
        if (auto decoded = base64_decode(bytes->get_ref<const std::string&>()))
            object = Value::binary(std::move(*decoded));
    }

    Value& root_;
    std::size_t max_depth_;
    bool* tag_keys_;
    std::vector<Value*> open_;
    Value::string_t key_;
    std::string error_;
    bool too_deep_ = false;
};

}  // namespace

Value parse_json(std::string_view text, std::size_t max_depth, bool* tag_keys) {
    Value root;
    ValueBuilder builder(root, max_depth, tag_keys);
    if (Value::sax_parse(text, &builder)) return root;
    if (builder.too_deep())
        throw ProtocolError("JSON nested more than " + std::to_string(max_depth) + " levels deep");
    std::string error = builder.error();
    if (auto end = error.find("] "); error.starts_with("[json.exception") && end != error.npos)
        error.erase(0, end + 2);  // nlohmann's "[json.exception.parse_error.101] "
    throw ProtocolError("not valid JSON: " + error);
}

}  // namespace bond::detail
