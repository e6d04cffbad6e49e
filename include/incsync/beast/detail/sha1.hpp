// SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept:
// RFC 6455 fixes the hash, and no security rests on it there.
#ifndef INCSYNC_BEAST_DETAIL_SHA1_HPP
#define INCSYNC_BEAST_DETAIL_SHA1_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace incsync::beast::detail {

inline std::uint32_t sha1_rotl(std::uint32_t x, int n) noexcept
{
    return (x << n) | (x >> (32 - n));
}

inline void sha1_block(std::array<std::uint32_t, 5>& h, const unsigned char* block) noexcept
{
    std::uint32_t w[80];
    for (int t = 0; t < 16; ++t)
        w[t] = (std::uint32_t{block[4 * t]} << 24) | (std::uint32_t{block[4 * t + 1]} << 16) |
               (std::uint32_t{block[4 * t + 2]} << 8) | std::uint32_t{block[4 * t + 3]};
    for (int t = 16; t < 80; ++t) w[t] = sha1_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
        std::uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        const std::uint32_t temp = sha1_rotl(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = sha1_rotl(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/// The SHA-1 digest of `data`.
inline std::array<std::uint8_t, 20> sha1(std::string_view data) noexcept
{
    std::array<std::uint32_t, 5> h{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    const std::size_t n = data.size();
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) sha1_block(h, p + i);

    // The tail, the 0x80 marker and the 64-bit bit length fill one block, or
    // two when fewer than 9 bytes are left after the tail.
    unsigned char tail[128] = {};
    const std::size_t rest = n - i;
    for (std::size_t j = 0; j < rest; ++j) tail[j] = p[i + j];
    tail[rest] = 0x80;
    const std::size_t tail_size = rest + 9 <= 64 ? 64 : 128;
    const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
    for (int j = 0; j < 8; ++j)
        tail[tail_size - 1 - j] = static_cast<unsigned char>(bits >> (8 * j));
    sha1_block(h, tail);
    if (tail_size == 128) sha1_block(h, tail + 64);

    std::array<std::uint8_t, 20> out{};
    for (int j = 0; j < 5; ++j)
        for (int k = 0; k < 4; ++k)
            out[4 * j + k] = static_cast<std::uint8_t>(h[j] >> (24 - 8 * k));
    return out;
}

} // namespace incsync::beast::detail

#endif
