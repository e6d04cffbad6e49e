// Base64url without padding (RFC 4648 section 5), for opaque cursors.
#ifndef INCSYNC_DETAIL_BASE64URL_HPP
#define INCSYNC_DETAIL_BASE64URL_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace incsync::detail {

inline constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

inline void base64url_append(std::string& out, const std::uint8_t* data, std::size_t n)
{
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        for (int s = 18; s >= 0; s -= 6) out.push_back(base64url_alphabet[(v >> s) & 63]);
    }
    if (n - i == 1) {
        const std::uint32_t v = data[i] << 16;
        out.push_back(base64url_alphabet[(v >> 18) & 63]);
        out.push_back(base64url_alphabet[(v >> 12) & 63]);
    } else if (n - i == 2) {
        const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
        out.push_back(base64url_alphabet[(v >> 18) & 63]);
        out.push_back(base64url_alphabet[(v >> 12) & 63]);
        out.push_back(base64url_alphabet[(v >> 6) & 63]);
    }
}

inline int base64url_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/// Decodes; nullopt on a character outside the alphabet or an impossible length
/// or non-canonical trailing bits.
inline std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view s)
{
    if (s.size() % 4 == 1) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(s.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        const int v = base64url_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return std::nullopt; // leftover bits must be zero
    return out;
}

/// FNV-1a, 32 bits: a checksum and a stable tag for names, not a MAC.
constexpr std::uint32_t fnv1a32(std::string_view s, std::uint32_t h = 2166136261u) noexcept
{
    for (char c : s) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 16777619u;
    }
    return h;
}

} // namespace incsync::detail

#endif
