// Appends JSON text for member values straight into a string: the encoder
// behind `append_json`. It skips building a json::value: about 3x faster than
// value_from + serialize, on par with serializing an existing value
// (docs/benchmarks.md).
#ifndef INCSYNC_DETAIL_JSON_WRITER_HPP
#define INCSYNC_DETAIL_JSON_WRITER_HPP

#include <incsync/decimal.hpp>
#include <incsync/detail/utf8.hpp>
#include <incsync/timestamp.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <charconv>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace incsync::detail {

/// Appends `s` as a JSON string literal: control characters escaped, and
/// each byte that is not part of well-formed UTF-8 written as U+FFFD, so
/// the output is valid JSON whatever `s` holds (a request's bytes may be
/// echoed in an error message).
inline void append_json_string(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    out.push_back('"');
    std::size_t run = 0; // start of the pending run of plain characters
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') continue;
        if (c >= 0x80) {
            if (const auto len = utf8_sequence_length(p + i, s.size() - i)) {
                i += len - 1;
                continue;
            }
        }
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
            if (c >= 0x80) {
                out.append("\\ufffd");
            } else {
                const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                out.append(esc, 6);
            }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class M>
void append_json_value(std::string& out, const M& v)
{
    static_assert(!std::is_floating_point_v<M>,
                  "incsync entities hold no binary floating point: use integer minor "
                  "units or incsync::decimal");
    if constexpr (std::is_same_v<M, bool>) {
        out.append(v ? "true" : "false");
    } else if constexpr (std::is_integral_v<M>) {
        char buf[24];
        out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    } else if constexpr (std::is_convertible_v<const M&, std::string_view>) {
        append_json_string(out, std::string_view(v));
    } else if constexpr (is_optional<M>::value) {
        if (v) append_json_value(out, *v);
        else out.append("null");
    } else if constexpr (std::is_same_v<M, timestamp>) {
        char buf[timestamp_length + 2];
        buf[0] = '"';
        format_timestamp_to(buf + 1, v);
        buf[timestamp_length + 1] = '"';
        out.append(buf, sizeof buf);
    } else if constexpr (std::is_same_v<M, decimal>) {
        out.push_back('"');
        out.append(format_decimal(v));
        out.push_back('"');
    } else {
        // Anything else Boost.JSON can convert (described enums, containers).
        out.append(boost::json::serialize(boost::json::value_from(v)));
    }
}

} // namespace incsync::detail

#endif
