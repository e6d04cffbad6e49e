// Splitting a request target into path and decoded query parameters. Small
// on purpose: the protocol's parameters are plain keys with simple values.
#ifndef INCSYNC_DETAIL_QUERY_STRING_HPP
#define INCSYNC_DETAIL_QUERY_STRING_HPP

#include <boost/container/small_vector.hpp>

#include <charconv>
#include <cstdint>
#include <forward_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace incsync::detail {

/// Percent-decodes (and '+' to space); nullopt on a bad escape or a NUL byte.
inline std::optional<std::string> percent_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            unsigned v = 0;
            if (s.size() - i < 3) return std::nullopt;
            auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec != std::errc{} || p != s.data() + i + 3) return std::nullopt;
            c = static_cast<char>(v);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        out.push_back(c);
    }
    return out;
}

/// A request target split into its path and decoded parameters. Parameters
/// are views: into the target itself when they needed no decoding (the usual
/// case, so parsing allocates nothing), else into strings the target owns.
/// Views into the request target live as long as the request.
struct target {
    std::string_view path;
    boost::container::small_vector<std::pair<std::string_view, std::string_view>, 8> params;
    bool malformed = false; ///< a parameter could not be decoded

    target() = default;
    target(target&&) noexcept = default;
    target& operator=(target&&) noexcept = default;
    // Not copyable: a copy's views would point into the original's strings.
    target(const target&) = delete;
    target& operator=(const target&) = delete;

    /// The value of the first parameter called `key`.
    std::optional<std::string_view> get(std::string_view key) const
    {
        for (const auto& [k, v] : params)
            if (k == key) return v;
        return std::nullopt;
    }

    /// `s` decoded, viewed where it lives; nullopt when it cannot be decoded.
    std::optional<std::string_view> decode(std::string_view s)
    {
        if (s.find_first_of("%+") == std::string_view::npos) {
            if (s.find('\0') != std::string_view::npos) return std::nullopt;
            return s;
        }
        auto d = percent_decode(s);
        if (!d) return std::nullopt;
        return std::string_view(decoded_.emplace_front(std::move(*d)));
    }

private:
    std::forward_list<std::string> decoded_; // nodes never move: views stay valid
};

inline target parse_target(std::string_view t)
{
    target out;
    const auto q = t.find('?');
    out.path = t.substr(0, q);
    if (q == std::string_view::npos) return out;
    std::string_view rest = t.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto key = out.decode(pair.substr(0, eq));
        auto value = out.decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
        if (!key || !value) {
            out.malformed = true;
            continue;
        }
        out.params.emplace_back(*key, *value);
    }
    return out;
}

/// Parses a whole decimal int64 (optional leading '-'); nullopt otherwise.
inline std::optional<std::int64_t> parse_int64(std::string_view s)
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

} // namespace incsync::detail

#endif
