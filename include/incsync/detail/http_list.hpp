// Reading HTTP header values that are lists (RFC 9110 section 5.6.1):
// comma-separated items, each maybe with `;`-separated parameters, around
// optional whitespace. Accept-Encoding, If-None-Match and
// Sec-WebSocket-Extensions are read with these.
#ifndef INCSYNC_DETAIL_HTTP_LIST_HPP
#define INCSYNC_DETAIL_HTTP_LIST_HPP

#include <string_view>

namespace incsync::detail {

/// `s` without the spaces and tabs at its ends (RFC 9110's OWS).
inline std::string_view trim_ows(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Takes the next item, up to `sep` or the end, off the front of `rest` and
/// returns it trimmed; `rest` keeps what follows the separator.
inline std::string_view next_item(std::string_view& rest, char sep) noexcept
{
    const auto at = rest.find(sep);
    const auto item = rest.substr(0, at);
    rest = at == std::string_view::npos ? std::string_view{} : rest.substr(at + 1);
    return trim_ows(item);
}

} // namespace incsync::detail

#endif
