// A fixed-point decimal for quantities and factors: never a binary float.
#ifndef INCSYNC_DECIMAL_HPP
#define INCSYNC_DECIMAL_HPP

#include <incsync/error.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <charconv>
#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>

namespace incsync {

/// A signed decimal with exactly six fraction digits, held as an integer count
/// of millionths. On the wire it is a JSON string (`"1.5"`, `"-0.000001"`), so
/// no client ever rounds it through a double; a JSON integer is accepted too.
/// Regular value type, noexcept, thread-safe.
struct decimal {
    static constexpr int fraction_digits = 6;
    static constexpr std::int64_t scale = 1'000'000;

    std::int64_t millionths = 0;

    static constexpr decimal from_integer(std::int64_t v) noexcept { return {v * scale}; }

    friend constexpr auto operator<=>(decimal, decimal) = default;
};

/// Parses `-?digits(.digits{1,6})?`. Anything else, more than six fraction
/// digits (they would be lost), or overflow: `error::bad_decimal`.
inline result<decimal> parse_decimal(std::string_view s) noexcept
{
    std::size_t i = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (negative) ++i;
    std::uint64_t whole = 0;
    const std::size_t whole_start = i;
    constexpr std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / decimal::scale;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
        if (whole > limit) return error::bad_decimal;
    }
    if (i == whole_start) return error::bad_decimal;
    std::int64_t frac = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::int64_t place = decimal::scale / 10;
        const std::size_t frac_start = i;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
            if (place == 0) return error::bad_decimal;
            frac += (s[i] - '0') * place;
            place /= 10;
        }
        if (i == frac_start) return error::bad_decimal;
    }
    if (i != s.size()) return error::bad_decimal;
    // In unsigned: "9223372036854.9" passes the check on `whole` but not this
    // one, and "-9223372036854.775808" is INT64_MIN, which format_decimal writes.
    const std::uint64_t magnitude = whole * decimal::scale + static_cast<std::uint64_t>(frac);
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0))
        return error::bad_decimal;
    return decimal{static_cast<std::int64_t>(negative ? 0 - magnitude : magnitude)};
}

/// The shortest exact form: `"2"`, `"1.5"`, `"-0.000001"`.
inline std::string format_decimal(decimal d)
{
    const bool negative = d.millionths < 0;
    // Work in unsigned so that INT64_MIN does not overflow on negation.
    const std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(d.millionths)
                                       : static_cast<std::uint64_t>(d.millionths);
    char buf[32];
    char* p = buf;
    if (negative) *p++ = '-';
    p = std::to_chars(p, buf + sizeof buf, mag / decimal::scale).ptr;
    if (std::uint64_t frac = mag % decimal::scale) {
        *p++ = '.';
        char digits[decimal::fraction_digits];
        for (int k = decimal::fraction_digits - 1; k >= 0; --k, frac /= 10)
            digits[k] = static_cast<char>('0' + frac % 10);
        int n = decimal::fraction_digits;
        while (digits[n - 1] == '0') --n;
        for (int k = 0; k < n; ++k) *p++ = digits[k];
    }
    return {buf, p};
}

inline std::ostream& operator<<(std::ostream& os, decimal d) { return os << format_decimal(d); }

inline void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, decimal d)
{
    jv = boost::json::string(format_decimal(d));
}

inline boost::system::result<decimal>
tag_invoke(const boost::json::try_value_to_tag<decimal>&, const boost::json::value& jv)
{
    if (const auto* s = jv.if_string()) {
        auto d = parse_decimal(*s);
        if (!d) return {boost::system::in_place_error, d.error().code};
        return *d;
    }
    if (jv.is_int64() || jv.is_uint64()) {
        boost::system::error_code ec;
        const auto v = jv.to_number<std::int64_t>(ec);
        if (ec || v > std::numeric_limits<std::int64_t>::max() / decimal::scale
            || v < std::numeric_limits<std::int64_t>::min() / decimal::scale)
            return {boost::system::in_place_error, make_error_code(error::bad_decimal)};
        return decimal::from_integer(v);
    }
    return {boost::system::in_place_error, make_error_code(error::bad_decimal)};
}

} // namespace incsync

#endif
