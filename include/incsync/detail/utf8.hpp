// UTF-8 well-formedness, shared by the JSON writer (which replaces what is
// not UTF-8) and the WebSocket frame checks (which refuse it).
#ifndef INCSYNC_DETAIL_UTF8_HPP
#define INCSYNC_DETAIL_UTF8_HPP

#include <cstddef>

namespace incsync::detail {

/// Length of the well-formed UTF-8 sequence (Unicode table 3-7) that starts
/// at `p[0]` (a byte >= 0x80), `n` bytes available; 0 when there is none.
inline std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n) noexcept
{
    const unsigned c = p[0];
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF; // the second byte's range excludes overlongs and surrogates
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c == 0xE0) {
        len = 3;
        lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        len = 3;
    } else if (c == 0xED) {
        len = 3;
        hi = 0x9F;
    } else if (c == 0xF0) {
        len = 4;
        lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        len = 4;
    } else if (c == 0xF4) {
        len = 4;
        hi = 0x8F;
    } else {
        return 0; // a continuation byte, C0, C1, F5-FF
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if ((p[k] & 0xC0) != 0x80) return 0;
    return len;
}

} // namespace incsync::detail

#endif
