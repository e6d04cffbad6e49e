// RFC 3339 UTC timestamps with microsecond precision, the only time format on
// the wire: `2025-12-23T10:30:00.123456Z`.
#ifndef INCSYNC_TIMESTAMP_HPP
#define INCSYNC_TIMESTAMP_HPP

#include <incsync/error.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace incsync {

/// A point in time: microseconds since the Unix epoch, UTC.
/// A regular value type; all operations are noexcept and thread-safe.
struct timestamp {
    std::int64_t micros = 0;

    static timestamp now() noexcept
    {
        using namespace std::chrono;
        return {duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
    }

    friend constexpr auto operator<=>(timestamp, timestamp) = default;
};

/// Length of a formatted timestamp: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
inline constexpr std::size_t timestamp_length = 27;

namespace detail {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic
// Gregorian calendar, no tables, no time-zone database.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month, day;
};

constexpr civil_date civil_from_days(std::int64_t z) noexcept
{
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

constexpr bool is_leap(std::int64_t y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept
{
    constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

inline constexpr std::int64_t micros_per_second = 1'000'000;
inline constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: four-digit years only.
inline constexpr std::int64_t min_micros = days_from_civil(1, 1, 1) * micros_per_day;
inline constexpr std::int64_t max_micros = (days_from_civil(9999, 12, 31) + 1) * micros_per_day - 1;

inline void put_digits(char* out, unsigned value, int width) noexcept
{
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

} // namespace detail

/// Writes exactly `timestamp_length` characters to `out`; returns `out + 27`.
/// Times outside years 0001..9999 are clamped to that range.
inline char* format_timestamp_to(char* out, timestamp t) noexcept
{
    std::int64_t us = t.micros < detail::min_micros ? detail::min_micros
                    : t.micros > detail::max_micros ? detail::max_micros : t.micros;
    std::int64_t days = us / detail::micros_per_day;
    std::int64_t rem = us % detail::micros_per_day;
    if (rem < 0) {
        rem += detail::micros_per_day;
        --days;
    }
    const auto date = detail::civil_from_days(days);
    const auto secs = static_cast<unsigned>(rem / detail::micros_per_second);
    const auto frac = static_cast<unsigned>(rem % detail::micros_per_second);
    detail::put_digits(out, static_cast<unsigned>(date.year), 4);
    out[4] = '-';
    detail::put_digits(out + 5, date.month, 2);
    out[7] = '-';
    detail::put_digits(out + 8, date.day, 2);
    out[10] = 'T';
    detail::put_digits(out + 11, secs / 3600, 2);
    out[13] = ':';
    detail::put_digits(out + 14, secs / 60 % 60, 2);
    out[16] = ':';
    detail::put_digits(out + 17, secs % 60, 2);
    out[19] = '.';
    detail::put_digits(out + 20, frac, 6);
    out[26] = 'Z';
    return out + timestamp_length;
}

/// `2025-12-23T10:30:00.123456Z`.
inline std::string format_timestamp(timestamp t)
{
    std::string s(timestamp_length, '\0');
    format_timestamp_to(s.data(), t);
    return s;
}

inline std::ostream& operator<<(std::ostream& os, timestamp t) { return os << format_timestamp(t); }

/// Parses any RFC 3339 date-time: `T`/`t`/space separator, 0 to 9 fraction
/// digits (beyond 6 truncated toward the past, which is the safe direction for a
/// `since`), `Z`/`z` or a `+HH:MM`/`-HH:MM` offset. A leap second (`:60`) reads
/// as the last microsecond of its minute. Returns `error::bad_timestamp` otherwise,
/// and for an instant outside years 0001..9999 UTC (`format_timestamp`'s range).
inline result<timestamp> parse_timestamp(std::string_view s) noexcept
{
    std::size_t i = 0;
    auto digits = [&](int n, unsigned& v) {
        if (i + static_cast<std::size_t>(n) > s.size()) return false;
        v = 0;
        for (int k = 0; k < n; ++k, ++i) {
            const char c = s[i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        return true;
    };
    auto expect = [&](auto... cs) {
        if (i < s.size() && ((s[i] == cs) || ...)) {
            ++i;
            return true;
        }
        return false;
    };
    unsigned year, month, day, hour, minute, second;
    if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day)
        || !expect('T', 't', ' ') || !digits(2, hour) || !expect(':') || !digits(2, minute)
        || !expect(':') || !digits(2, second))
        return error::bad_timestamp;
    if (year == 0 || month < 1 || month > 12 || day < 1 || day > detail::days_in_month(year, month)
        || hour > 23 || minute > 59 || second > 60)
        return error::bad_timestamp;
    std::int64_t frac = 0;
    bool leap = second == 60;
    if (leap) second = 59;
    if (expect('.')) {
        const std::size_t start = i;
        std::int64_t scale = 100'000;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == start) return error::bad_timestamp;
    }
    if (leap) frac = detail::micros_per_second - 1;
    std::int64_t offset_minutes = 0;
    if (expect('Z', 'z')) {
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        const bool negative = s[i++] == '-';
        unsigned oh, om;
        if (!digits(2, oh) || !expect(':') || !digits(2, om) || oh > 23 || om > 59)
            return error::bad_timestamp;
        offset_minutes = (negative ? -1 : 1) * static_cast<std::int64_t>(oh * 60 + om);
    } else {
        return error::bad_timestamp;
    }
    if (i != s.size()) return error::bad_timestamp;
    const std::int64_t seconds = detail::days_from_civil(year, month, day) * 86'400
                               + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    const std::int64_t micros = seconds * detail::micros_per_second + frac;
    // An offset can carry 0001-01-01 or 9999-12-31 out of the years a
    // timestamp is written in: such an instant would not read back the same.
    if (micros < detail::min_micros || micros > detail::max_micros) return error::bad_timestamp;
    return timestamp{micros};
}

/// JSON: a timestamp is the string `format_timestamp` writes.
inline void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, timestamp t)
{
    char buf[timestamp_length];
    format_timestamp_to(buf, t);
    jv = boost::json::string(buf, timestamp_length);
}

inline boost::system::result<timestamp>
tag_invoke(const boost::json::try_value_to_tag<timestamp>&, const boost::json::value& jv)
{
    const auto* s = jv.if_string();
    if (!s) return {boost::system::in_place_error, make_error_code(error::bad_timestamp)};
    auto t = parse_timestamp(*s);
    if (!t) return {boost::system::in_place_error, t.error().code};
    return *t;
}

} // namespace incsync

#endif
