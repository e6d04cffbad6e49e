// Server-side WebSocket (RFC 6455) framing, as pure functions: our session
// writes many frames in one gather write and keeps no per-connection frame
// buffers, which Beast's websocket::stream does not allow; Beast still parses
// the HTTP upgrade request.
#ifndef INCSYNC_BEAST_DETAIL_WEBSOCKET_FRAME_HPP
#define INCSYNC_BEAST_DETAIL_WEBSOCKET_FRAME_HPP

#include <incsync/beast/detail/sha1.hpp>
#include <incsync/detail/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace incsync::beast::detail {

// ---- handshake --------------------------------------------------------------

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline bool is_base64_char(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: padded standard
/// base64 (RFC 4648 section 4) of SHA-1(key + RFC 6455's GUID).
inline std::string websocket_accept(std::string_view client_key)
{
    std::string input;
    input.reserve(client_key.size() + 36);
    input.append(client_key);
    input.append("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    const auto digest = sha1(input);

    std::string out;
    out.reserve(28);
    std::size_t i = 0;
    for (; i + 3 <= digest.size(); i += 3) {
        const std::uint32_t v =
            (std::uint32_t{digest[i]} << 16) | (std::uint32_t{digest[i + 1]} << 8) | digest[i + 2];
        for (int s = 18; s >= 0; s -= 6) out.push_back(base64_alphabet[(v >> s) & 63]);
    }
    // 20 = 6 * 3 + 2: two bytes left, three characters and one pad.
    const std::uint32_t v = (std::uint32_t{digest[i]} << 16) | (std::uint32_t{digest[i + 1]} << 8);
    out.push_back(base64_alphabet[(v >> 18) & 63]);
    out.push_back(base64_alphabet[(v >> 12) & 63]);
    out.push_back(base64_alphabet[(v >> 6) & 63]);
    out.push_back('=');
    return out;
}

/// True when `key` is a well-formed Sec-WebSocket-Key: 24 characters of
/// standard base64 that decode to 16 bytes (22 alphabet characters, then "==").
/// The 4 unused bits of the last character are not checked: the key is only
/// hashed, never decoded, and a sloppy encoder is no reason to refuse a client.
inline bool valid_websocket_key(std::string_view key) noexcept
{
    if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
    for (std::size_t i = 0; i < 22; ++i)
        if (!is_base64_char(key[i])) return false;
    return true;
}

// ---- frames -----------------------------------------------------------------

/// Frame opcodes (RFC 6455 section 5.2); 3-7 and 11-15 are reserved.
enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

/// The longest server-to-client (unmasked) frame header.
inline constexpr std::size_t max_frame_header = 10;

/// Writes the header of an unmasked server-to-client frame into `out` (room for
/// `max_frame_header` bytes) and returns its length: 2, 4 or 10 bytes, the
/// shortest encoding of `payload_size`. Precondition: `payload_size < 2^63`;
/// control frames (close, ping, pong) need `fin` and at most 125 bytes.
/// `compressed` sets RSV1: a permessage-deflate message (RFC 7692).
inline std::size_t write_frame_header(char* out, opcode op, std::uint64_t payload_size, bool fin = true,
                                      bool compressed = false) noexcept
{
    out[0] = static_cast<char>((fin ? 0x80 : 0x00) | (compressed ? 0x40 : 0x00) | static_cast<std::uint8_t>(op));
    if (payload_size < 126) {
        out[1] = static_cast<char>(payload_size);
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        out[1] = static_cast<char>(126);
        out[2] = static_cast<char>(payload_size >> 8);
        out[3] = static_cast<char>(payload_size);
        return 4;
    }
    out[1] = static_cast<char>(127);
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(payload_size >> (56 - 8 * i));
    return 10;
}

/// The result of `parse_frame`. `op`, `fin`, `header_size` and `payload_size`
/// are meaningful only when `what == status::frame`; `error_code` only when
/// `what == status::error`.
struct parsed_frame {
    enum class status { need_more, frame, error } what = status::need_more;
    opcode op = opcode::continuation;
    bool fin = false;
    bool compressed = false;      // RSV1 on a message's first frame (permessage-deflate)
    std::size_t header_size = 0;  // bytes before the payload
    std::size_t payload_size = 0;
    std::uint16_t error_code = 0; // close code to send when what == error
};

/// Close status codes (RFC 6455 section 7.4 and the IANA registry).
namespace close_code {
inline constexpr std::uint16_t normal = 1000, going_away = 1001, protocol_error = 1002,
                               unsupported_data = 1003, invalid_payload = 1007, policy_violation = 1008,
                               message_too_big = 1009, internal_error = 1011, try_again_later = 1013;
// Never sent: what parse_close_payload reports for a close frame without a code.
inline constexpr std::uint16_t no_status = 1005;
} // namespace close_code

// XORs the masking key over a payload that starts at key offset 0, eight bytes
// at a time; the key is laid out in memory as the bytes are, so byte order
// does not matter.
inline void unmask(char* p, std::size_t n, const unsigned char* key) noexcept
{
    unsigned char key8[8];
    for (int i = 0; i < 8; ++i) key8[i] = key[i & 3];
    std::uint64_t k;
    std::memcpy(&k, key8, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, p + i, 8);
        v ^= k;
        std::memcpy(p + i, &v, 8);
    }
    for (; i < n; ++i) p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ key[i & 3]);
}

/// Parses one client-to-server frame at the start of `buf[0..size)`.
///
/// Returns `need_more` until the whole header and payload are present, then
/// `frame`, with the payload (`buf + header_size`, `payload_size` bytes)
/// unmasked in place; the caller consumes `header_size + payload_size` bytes.
/// Call again with the same bytes plus more after `need_more`: nothing is
/// modified until `frame` is returned. Returns `error`, with the close code to
/// send, as soon as the bytes present break a rule: reserved bits or opcode
/// (1002), an unmasked frame (1002), a fragmented or longer than 125 bytes
/// control frame (1002), a 64-bit length with its top bit set (1002), a payload
/// longer than `max_payload` (1009). Message-level rules (continuation
/// sequencing, UTF-8 of text, total message size) are the caller's.
/// With `deflate` (permessage-deflate negotiated), RSV1 is allowed on the
/// first frame of a text or binary message and reported as `compressed`.
inline parsed_frame parse_frame(char* buf, std::size_t size, std::size_t max_payload, bool deflate = false) noexcept
{
    using status = parsed_frame::status;
    const auto fail = [](std::uint16_t code) {
        parsed_frame r;
        r.what = status::error;
        r.error_code = code;
        return r;
    };
    const auto* u = reinterpret_cast<const unsigned char*>(buf);

    if (size < 1) return {};
    const unsigned b0 = u[0];
    const unsigned op = b0 & 0x0F;
    const bool rsv1 = (b0 & 0x40) != 0;
    if (b0 & 0x30) return fail(close_code::protocol_error); // RSV2-3: no extension uses them
    if (rsv1 && !(deflate && (op == 1 || op == 2))) return fail(close_code::protocol_error);
    if ((op > 2 && op < 8) || op > 10) return fail(close_code::protocol_error);
    const bool fin = (b0 & 0x80) != 0;
    const bool control = op >= 8;
    if (control && !fin) return fail(close_code::protocol_error);

    if (size < 2) return {};
    const unsigned b1 = u[1];
    if (!(b1 & 0x80)) return fail(close_code::protocol_error); // clients must mask
    std::uint64_t length = b1 & 0x7F;
    if (control && length > 125) return fail(close_code::protocol_error);
    std::size_t header = 2;
    if (length == 126) {
        header = 4;
        if (size < header) return {};
        length = (std::uint64_t{u[2]} << 8) | u[3];
    } else if (length == 127) {
        header = 10;
        if (size < header) return {};
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | u[2 + i];
        if (length >> 63) return fail(close_code::protocol_error);
    }
    if (length > max_payload) return fail(close_code::message_too_big);
    header += 4; // the masking key
    // length <= max_payload fits size_t; compare without forming header + length.
    if (size < header || size - header < length) return {};

    parsed_frame r;
    r.what = status::frame;
    r.op = static_cast<opcode>(op);
    r.fin = fin;
    r.compressed = rsv1;
    r.header_size = header;
    r.payload_size = static_cast<std::size_t>(length);
    unmask(buf + header, r.payload_size, u + header - 4);
    return r;
}

// ---- close and UTF-8 --------------------------------------------------------

/// True when `s` is well-formed UTF-8 (Unicode table 3-7): no overlong forms,
/// no surrogates, nothing above U+10FFFF, no truncated sequence. Checks a whole
/// string only; a sequence split across fragments fails.
inline bool valid_utf8(std::string_view s) noexcept
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        if (n - i >= 8) { // ASCII fast path, eight bytes at a time
            std::uint64_t v;
            std::memcpy(&v, p + i, 8);
            if (!(v & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        const auto len = incsync::detail::utf8_sequence_length(p + i, n - i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

/// True for a close code a peer may send: 1000-1003, 1007-1014 (1012-1014 are
/// IANA-registered after RFC 6455; we send 1013 ourselves and clients echo it),
/// 3000-4999 (libraries and applications).
inline bool valid_close_code(std::uint16_t code) noexcept
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/// Writes a close frame payload into `out` (room for 125 bytes): `code` big
/// endian, then `reason` cut to 123 bytes at a UTF-8 character boundary, so a
/// valid reason stays valid. Returns the payload length.
inline std::size_t write_close_payload(char* out, std::uint16_t code, std::string_view reason) noexcept
{
    out[0] = static_cast<char>(code >> 8);
    out[1] = static_cast<char>(code);
    std::size_t n = reason.size();
    if (n > 123) {
        n = 123;
        while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
    }
    if (n != 0) std::memcpy(out + 2, reason.data(), n); // data() may be null when empty
    return 2 + n;
}

/// A parsed close frame payload; `reason` points into the payload.
struct close_reason {
    std::uint16_t code;
    std::string_view reason;
    bool valid;
};

/// Parses a close frame payload: empty gives `close_code::no_status`, valid;
/// otherwise valid when the code passes `valid_close_code` and the reason is
/// UTF-8. One byte, or more than 125, is invalid.
inline close_reason parse_close_payload(std::string_view payload) noexcept
{
    if (payload.empty()) return {close_code::no_status, {}, true};
    if (payload.size() == 1 || payload.size() > 125) return {0, {}, false};
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
    const auto reason = payload.substr(2);
    return {code, reason, valid_close_code(code) && valid_utf8(reason)};
}

} // namespace incsync::beast::detail

#endif
