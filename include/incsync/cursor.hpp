// Cursors: the opaque `next_since` strings clients store and send back.
//
// A cursor names a position in one store's change log (`epoch`, `version`) for
// one view (`tag` of the entity type, `store_id`). It is tamper-evident, not
// tamper-proof: a checksum catches garbling, and a cursor grants nothing (the
// store wall is enforced by the token), so forging one can only make its
// holder miss its own data, which the `version` bound check also prevents.
#ifndef INCSYNC_CURSOR_HPP
#define INCSYNC_CURSOR_HPP

#include <incsync/change.hpp>
#include <incsync/detail/base64url.hpp>
#include <incsync/error.hpp>
#include <incsync/timestamp.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace incsync {

struct cursor {
    std::uint64_t epoch = 0;  ///< identity of the store (changes when its data is reset)
    version_t version = 0;    ///< the scan position: the next page starts after it
    /// The version of the last complete view the holder has: equal to
    /// `version` after a page without `has_more`, behind it in the middle of a
    /// multi-page catch-up. Deltas and create/update are relative to it.
    version_t base = 0;
    std::uint32_t tag = 0;    ///< `cursor_tag` of the entity type, or of "*" for `check`
    std::optional<std::int64_t> store_id; ///< the view's store; nullopt for global types

    friend bool operator==(const cursor&, const cursor&) = default;
};

/// The tag identifying an entity type (or "*") inside a cursor.
constexpr std::uint32_t cursor_tag(std::string_view entity_type) noexcept
{
    return detail::fnv1a32(entity_type);
}

namespace detail {

inline constexpr std::string_view cursor_prefix = "v1";
inline constexpr std::size_t cursor_payload = 8 + 8 + 8 + 4 + 1 + 8;
inline constexpr std::uint32_t cursor_salt = 0x9e3779b9u;

inline void put_u64(std::uint8_t* p, std::uint64_t v) noexcept
{
    for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
inline std::uint64_t get_u64(const std::uint8_t* p) noexcept
{
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

inline void put_u32(std::uint8_t* p, std::uint32_t v) noexcept
{
    for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
inline std::uint32_t get_u32(const std::uint8_t* p) noexcept
{
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

inline std::uint32_t cursor_checksum(const std::uint8_t* p, std::size_t n) noexcept
{
    return fnv1a32(std::string_view(reinterpret_cast<const char*>(p), n), cursor_salt);
}

} // namespace detail

/// `v1` followed by 55 base64url characters.
inline std::string encode_cursor(const cursor& c)
{
    // epoch(8) version(8) base(8) tag(4) has_store(1) store(8) checksum(4), big-endian.
    std::array<std::uint8_t, detail::cursor_payload + 4> bytes{};
    detail::put_u64(bytes.data(), c.epoch);
    detail::put_u64(bytes.data() + 8, c.version);
    detail::put_u64(bytes.data() + 16, c.base);
    detail::put_u32(bytes.data() + 24, c.tag);
    bytes[28] = c.store_id ? 1 : 0;
    detail::put_u64(bytes.data() + 29, static_cast<std::uint64_t>(c.store_id.value_or(0)));
    detail::put_u32(bytes.data() + detail::cursor_payload,
                    detail::cursor_checksum(bytes.data(), detail::cursor_payload));
    std::string out(detail::cursor_prefix);
    detail::base64url_append(out, bytes.data(), bytes.size());
    return out;
}

/// Decodes a cursor; anything garbled is `error::bad_cursor`.
inline result<cursor> decode_cursor(std::string_view s)
{
    if (s.size() > 128 || !s.starts_with(detail::cursor_prefix))
        return error_info(error::bad_cursor, "not a cursor");
    auto bytes = detail::base64url_decode(s.substr(detail::cursor_prefix.size()));
    if (!bytes || bytes->size() != detail::cursor_payload + 4)
        return error_info(error::bad_cursor, "not a cursor");
    const auto* p = bytes->data();
    // A global cursor's store bytes are zero, so each cursor has one token.
    if (detail::get_u32(p + detail::cursor_payload) != detail::cursor_checksum(p, detail::cursor_payload)
        || p[28] > 1 || (p[28] == 0 && detail::get_u64(p + 29) != 0))
        return error_info(error::bad_cursor, "checksum mismatch");
    cursor c;
    c.epoch = detail::get_u64(p);
    c.version = detail::get_u64(p + 8);
    c.base = detail::get_u64(p + 16);
    c.tag = detail::get_u32(p + 24);
    if (p[28]) c.store_id = static_cast<std::int64_t>(detail::get_u64(p + 29));
    if (c.base > c.version) return error_info(error::bad_cursor, "inconsistent cursor");
    return c;
}

/// What a `since` parameter says: from the beginning, a cursor, or a timestamp.
using since_position = std::variant<std::monostate, cursor, timestamp>;

/// Empty: the beginning. Starts with a digit: an RFC 3339 timestamp (what the
/// plan's clients send). Otherwise: a cursor.
inline result<since_position> parse_since(std::string_view s)
{
    if (s.empty()) return since_position{};
    if (s.front() >= '0' && s.front() <= '9') {
        auto t = parse_timestamp(s);
        if (!t) return error_info(error::bad_timestamp, "since");
        return since_position{*t};
    }
    auto c = decode_cursor(s);
    if (!c) return c.error();
    return since_position{*c};
}

} // namespace incsync

#endif
