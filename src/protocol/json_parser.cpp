#include "json_parser.hpp"

#include "base64.hpp"
#include "jsonrpc.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace bond::detail {
namespace {

// RapidJSON's SAX handler, building the Value as nlohmann's own DOM parser does and turning
// $bytes objects into bytes on the way. Strings come as pointer and length: in the line's own
// buffer when it is read in place, else in the reader's.
class ValueBuilder {
  public:
    ValueBuilder(Value& root, std::size_t max_depth, bool* tag_keys)
        : root_(root), max_depth_(max_depth), tag_keys_(tag_keys) {}

    using Ch = char;
    using SizeType = rapidjson::SizeType;

    bool Null() { return add(nullptr); }
    bool Bool(bool value) { return add(value); }
    // Numbers come as their text (kParseNumbersAsStringsFlag), read as nlohmann reads them: an
    // integer without a sign is unsigned, one with a minus signed, one beyond 64 bits and any
    // other number a double, the nearest to the text (std::from_chars: exact, whatever the
    // locale). RapidJSON's own conversion of doubles in full precision has undefined behaviour
    // in 1.1.0 (a count of leading zeros of 0, for some inputs), found by UBSan.
    bool RawNumber(const Ch* text, SizeType length, bool) {
        const char* end = text + length;
        std::string_view number(text, length);
        if (number.find_first_of(".eE") == std::string_view::npos) {
            if (number[0] == '-') {
                Value::number_integer_t value = 0;
                if (auto read = std::from_chars(text, end, value); read.ec == std::errc())
                    return add(value);
            } else {
                Value::number_unsigned_t value = 0;
                if (auto read = std::from_chars(text, end, value); read.ec == std::errc())
                    return add(value);
            }
        }
        double value = 0;
        auto read = std::from_chars(text, end, value);
        if (read.ec == std::errc::result_out_of_range) {
            if (!too_small(number)) {
                too_large_ = number.substr(0, 40);
                return false;
            }
            value = number[0] == '-' ? -0.0 : 0.0;  // as strtod rounds it
        } else if (read.ec != std::errc() || read.ptr != end) {
            return false;  // not reached: RapidJSON checked the grammar
        }
        return add(value);
    }
    bool Int(int) { return false; }  // numbers come as text (RawNumber)
    bool Uint(unsigned) { return false; }
    bool Int64(std::int64_t) { return false; }
    bool Uint64(std::uint64_t) { return false; }
    bool Double(double) { return false; }
    bool String(const Ch* text, SizeType length, bool) {
        if (has_lone_surrogate(text, length)) return false;
        return add(Value::string_t(text, length));
    }
    bool StartObject() { return open(Value::object()); }
    bool Key(const Ch* text, SizeType length, bool) {
        if (has_lone_surrogate(text, length)) return false;
        std::string_view key(text, length);
        if (tag_keys_ && !key.empty() && key[0] == '$' && !*tag_keys_)
            *tag_keys_ = key == "$obj" || key == "$yours" || key == "$code";
        key_.assign(key);
        return true;
    }
    bool EndObject(SizeType) {
        Value& object = *open_.back();
        open_.pop_back();
        take_bytes(object);
        return true;
    }
    bool StartArray() { return open(Value::array()); }
    bool EndArray(SizeType) {
        open_.pop_back();
        return true;
    }

    bool too_deep() const { return too_deep_; }
    bool lone_surrogate() const { return lone_surrogate_; }
    // The start of a number too large for a double, or empty.
    const std::string& too_large() const { return too_large_; }

  private:
    // A number out of a double's range is too small when its first significant digit stands
    // after the decimal point, its exponent counted.
    static bool too_small(std::string_view number) {
        if (number.starts_with('-')) number.remove_prefix(1);
        long exponent = 0;
        if (auto at = number.find_first_of("eE"); at != number.npos) {
            std::string_view digits = number.substr(at + 1);
            bool negative = digits.starts_with('-');
            if (negative || digits.starts_with('+')) digits.remove_prefix(1);
            long magnitude = 0;
            auto read = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
            constexpr long kFar = 1L << 40;  // beyond any double, and any count of digits here
            if (read.ec != std::errc() || magnitude > kFar) magnitude = kFar;
            exponent = negative ? -magnitude : magnitude;
            number = number.substr(0, at);
        }
        std::string_view integer = number.substr(0, number.find('.'));
        if (auto first = integer.find_first_not_of('0'); first != integer.npos)
            return static_cast<long>(integer.size() - first) + exponent <= 0;
        std::string_view fraction =
            integer.size() < number.size() ? number.substr(integer.size() + 1) : "";
        auto first = fraction.find_first_not_of('0');
        return first == fraction.npos || exponent - static_cast<long>(first) <= 0;
    }
    // RapidJSON 1.1.0 refuses a \uD800 to \uDBFF escape without its pair but writes a lone
    // \uDC00 to \uDFFF as the bytes ED B0..BF xx: not UTF-8, which nlohmann refused. (Such
    // bytes in the text itself are refused by the reader's own check of UTF-8.)
    bool has_lone_surrogate(const char* text, std::size_t length) {
        const char* end = text + length;
        for (const char* at = text;
             (at = static_cast<const char*>(std::memchr(at, 0xED, end - at))) != nullptr; ++at) {
            if (at + 1 < end && static_cast<unsigned char>(at[1]) >= 0xA0) {
                lone_surrogate_ = true;
                return true;
            }
        }
        return false;
    }
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
    bool too_deep_ = false;
    bool lone_surrogate_ = false;
    std::string too_large_;
};

// Iterative: no recursion for deep input (the builder bounds the depth). Numbers as text: the
// builder reads them (ValueBuilder::RawNumber). Invalid UTF-8 is refused, as nlohmann refuses it.
constexpr unsigned kReadFlags = rapidjson::kParseIterativeFlag |
                                rapidjson::kParseNumbersAsStringsFlag |
                                rapidjson::kParseValidateEncodingFlag;

// `stream` ends at `size`, or at a NUL byte: RapidJSON's end of input. A NUL before the end is
// not JSON, which nlohmann would say; RapidJSON would stop there, content or puzzled.
// `text` is where the stream reads: the reader changes nothing at or after where it stops.
template <unsigned flags, typename Stream>
Value read(Stream& stream, const char* text, std::size_t size, std::size_t max_depth,
           bool* tag_keys) {
    if (size > std::numeric_limits<rapidjson::SizeType>::max())
        throw ProtocolError("a JSON text of " + std::to_string(size) +
                            " bytes is longer than the 4 GiB - 1 that can be read");
    Value root;
    ValueBuilder builder(root, max_depth, tag_keys);
    rapidjson::Reader reader;
    rapidjson::ParseResult result = reader.Parse<flags>(stream, builder);
    if (result && stream.Tell() == size) return root;
    if (builder.too_deep())
        throw ProtocolError("JSON nested more than " + std::to_string(max_depth) + " levels deep");
    if (builder.lone_surrogate())
        throw ProtocolError(
            "not valid JSON: a lone UTF-16 surrogate, \\uDC00 to \\uDFFF "
            "without \\uD800 to \\uDBFF before it (near byte " +
            std::to_string(result.Offset() + 1) + " of " + std::to_string(size) + ")");
    if (!builder.too_large().empty())
        throw ProtocolError("not valid JSON: the number " + builder.too_large() +
                            " is too large for a double (at byte " +
                            std::to_string(result.Offset() + 1) + " of " + std::to_string(size) +
                            ")");
    std::size_t offset = result ? stream.Tell() : result.Offset();
    std::string problem = offset < size && text[offset] == '\0'
                              ? "a NUL byte, which JSON allows only escaped, as \\u0000"
                              : rapidjson::GetParseError_En(result.Code());
    if (problem.ends_with('.')) problem.pop_back();
    std::string where =
        offset < size ? "at byte " + std::to_string(offset + 1) + " of " + std::to_string(size)
                      : "at the end, after " + std::to_string(size) + " bytes";
    throw ProtocolError("not valid JSON: " + problem + " (" + where + ")");
}

}  // namespace

Value parse_json(std::string_view text, std::size_t max_depth, bool* tag_keys) {
    rapidjson::MemoryStream stream(text.data(), text.size());
    return read<kReadFlags>(stream, text.data(), text.size(), max_depth, tag_keys);
}

Value parse_json_in_place(std::string& text, std::size_t max_depth, bool* tag_keys) {
    rapidjson::InsituStringStream stream(text.data());  // std::string's data() ends in NUL
    return read<kReadFlags | rapidjson::kParseInsituFlag>(stream, text.data(), text.size(),
                                                          max_depth, tag_keys);
}

}  // namespace bond::detail
