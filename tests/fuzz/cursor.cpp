// Fuzz target: cursor tokens (cursor.hpp, detail/base64url.hpp) and the
// other form of `since`, RFC 3339 timestamps (timestamp.hpp).
//
// The first byte picks what the rest is:
//   0: a token or `since` string as a client sends it;
//   1: a cursor's 37 payload bytes, made a well-formed token (checksum and
//      base64url added), so the decoder's field checks are reached;
//   2: bytes for base64url.
// Invariants: decoding never crashes; a decoded cursor re-encodes to a token
// that decodes to the same cursor, and a well-formed token is that token
// again (the encoding is canonical); decode(encode(c)) == c for every
// cursor; a parsed timestamp formats to a string that parses to the same
// instant; base64url decoding inverts encoding, and what decodes re-encodes
// to itself.
#include "fuzz.hpp"

#include <incsync/cursor.hpp>
#include <incsync/detail/base64url.hpp>
#include <incsync/timestamp.hpp>

#include <array>
#include <string>
#include <string_view>
#include <variant>

namespace fuzz_cursor {

using namespace incsync;

void check_cursor(const cursor& c)
{
    INCSYNC_FUZZ_CHECK(c.base <= c.version);
    const auto text = encode_cursor(c);
    INCSYNC_FUZZ_CHECK(text.size() == 57 && text.starts_with("v1"));
    const auto back = decode_cursor(text);
    INCSYNC_FUZZ_CHECK(back.has_value() && *back == c);
    INCSYNC_FUZZ_CHECK(encode_cursor(*back) == text);
}

void check_token(std::string_view s)
{
    const auto c = decode_cursor(s);
    if (!c) {
        INCSYNC_FUZZ_CHECK(c.error() == error::bad_cursor);
        return;
    }
    check_cursor(*c);
    INCSYNC_FUZZ_CHECK(encode_cursor(*c) == s); // one token per cursor
}

void check_since(std::string_view s)
{
    const auto pos = parse_since(s);
    if (!pos) return;
    if (const auto* c = std::get_if<cursor>(&*pos)) {
        check_cursor(*c);
    } else if (const auto* t = std::get_if<timestamp>(&*pos)) {
        const auto text = format_timestamp(*t);
        const auto again = parse_timestamp(text);
        INCSYNC_FUZZ_CHECK(again.has_value() && *again == *t);
        INCSYNC_FUZZ_CHECK(format_timestamp(*again) == text);
    } else {
        INCSYNC_FUZZ_CHECK(s.empty());
    }
}

void check_payload(std::string_view raw)
{
    std::array<std::uint8_t, detail::cursor_payload + 4> bytes{};
    for (std::size_t i = 0; i < detail::cursor_payload && i < raw.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(raw[i]);
    detail::put_u32(bytes.data() + detail::cursor_payload, detail::cursor_checksum(bytes.data(), detail::cursor_payload));
    std::string token(detail::cursor_prefix);
    detail::base64url_append(token, bytes.data(), bytes.size());
    const auto c = decode_cursor(token);
    const bool consistent = detail::get_u64(bytes.data() + 16) <= detail::get_u64(bytes.data() + 8);
    const bool store_bytes_zero = detail::get_u64(bytes.data() + 29) == 0;
    INCSYNC_FUZZ_CHECK(c.has_value() == ((bytes[28] == 1 || (bytes[28] == 0 && store_bytes_zero)) && consistent));
    check_token(token);
    // The same cursor, built from its fields.
    cursor built{detail::get_u64(bytes.data()), detail::get_u64(bytes.data() + 8), detail::get_u64(bytes.data() + 16),
                 detail::get_u32(bytes.data() + 24), std::nullopt};
    if (built.base > built.version) std::swap(built.base, built.version);
    if (bytes[28] & 1) built.store_id = static_cast<std::int64_t>(detail::get_u64(bytes.data() + 29));
    check_cursor(built);
}

void check_base64url(std::string_view raw)
{
    // Text: what decodes, re-encodes to itself.
    if (const auto bytes = detail::base64url_decode(raw)) {
        std::string again;
        detail::base64url_append(again, bytes->data(), bytes->size());
        INCSYNC_FUZZ_CHECK(again == raw);
    }
    // Bytes: encoding, then decoding, gives them back.
    std::string text;
    detail::base64url_append(text, reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
    INCSYNC_FUZZ_CHECK(text.size() == (raw.size() * 4 + 2) / 3);
    const auto back = detail::base64url_decode(text);
    INCSYNC_FUZZ_CHECK(back.has_value() && back->size() == raw.size());
    INCSYNC_FUZZ_CHECK(std::equal(back->begin(), back->end(), reinterpret_cast<const std::uint8_t*>(raw.data())));
}

} // namespace fuzz_cursor

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fuzz_cursor;
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        check_token(rest);
        check_since(rest);
        break;
    case 1: check_payload(rest); break;
    default: check_base64url(rest); break;
    }
    return 0;
}
