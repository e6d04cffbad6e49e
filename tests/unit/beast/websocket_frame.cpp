#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/beast/detail/websocket_frame.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <ostream>

namespace incsync::beast::detail {

// Boost.Test prints operands of a failed BOOST_TEST; found by ADL.
std::ostream& boost_test_print_type(std::ostream& os, parsed_frame::status s)
{
    constexpr const char* names[] = {"need_more", "frame", "error"};
    return os << names[static_cast<int>(s)];
}

std::ostream& boost_test_print_type(std::ostream& os, opcode op)
{
    return os << "opcode " << static_cast<int>(op);
}

} // namespace incsync::beast::detail

namespace unit_beast_websocket_frame_test {

using namespace incsync::beast::detail;
using namespace std::string_literals;
using namespace std::string_view_literals;
using status = parsed_frame::status;

std::string hex(const std::array<std::uint8_t, 20>& d)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : d) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

constexpr std::array<std::uint8_t, 4> test_key{0x37, 0xFA, 0x21, 0x3D};

// How the test client encodes the payload length; minimal picks the shortest.
enum class length_form { minimal, bits16, bits64 };

// A client-to-server frame built by hand, independently of the code under test.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true,
                         length_form form = length_form::minimal, std::array<std::uint8_t, 4> key = test_key)
{
    std::string f;
    f.push_back(static_cast<char>(first_byte));
    const std::uint8_t mask_bit = masked ? 0x80 : 0x00;
    const std::uint64_t n = payload.size();
    if (form == length_form::minimal)
        form = n < 126 ? length_form::minimal : n <= 0xFFFF ? length_form::bits16 : length_form::bits64;
    if (form == length_form::minimal) {
        f.push_back(static_cast<char>(mask_bit | n));
    } else if (form == length_form::bits16) {
        f.push_back(static_cast<char>(mask_bit | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n));
    } else {
        f.push_back(static_cast<char>(mask_bit | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(n >> (8 * i)));
    }
    if (masked)
        for (auto k : key) f.push_back(static_cast<char>(k));
    for (std::size_t i = 0; i < payload.size(); ++i)
        f.push_back(masked ? static_cast<char>(payload[i] ^ static_cast<char>(key[i % 4])) : payload[i]);
    return f;
}

std::string client_frame(opcode op, std::string_view payload, bool fin = true)
{
    return client_frame(static_cast<std::uint8_t>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(op)), payload);
}

// Bytes 0..n-1 cycling, so a misplaced or doubly applied mask shows.
std::string pattern(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + 3);
    return s;
}

parsed_frame parse(std::string& buf, std::size_t max_payload = 1 << 20)
{
    return parse_frame(buf.data(), buf.size(), max_payload);
}

std::uint16_t error_of(std::string buf, std::size_t max_payload = 1 << 20)
{
    const auto r = parse(buf, max_payload);
    BOOST_TEST(r.what == status::error);
    return r.error_code;
}

BOOST_AUTO_TEST_SUITE(websocket_frame_suite)

BOOST_AUTO_TEST_CASE(sha1_matches_fips_180_vectors)
{
    BOOST_TEST(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    BOOST_TEST(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    BOOST_TEST(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
               "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    BOOST_TEST(hex(sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

BOOST_AUTO_TEST_CASE(sha1_pads_inputs_around_the_block_boundary)
{
    // 55 bytes fit the padding in one block, 56 need a second; 64 is exactly one.
    BOOST_TEST(hex(sha1(std::string(55, 'a'))) == "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    BOOST_TEST(hex(sha1(std::string(56, 'a'))) == "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    BOOST_TEST(hex(sha1(std::string(64, 'a'))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

// RFC 6455 section 1.3; the value is 28 characters, as any base64 of 20 bytes is.
BOOST_AUTO_TEST_CASE(accept_key_matches_rfc_6455_example)
{
    BOOST_TEST(websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

BOOST_AUTO_TEST_CASE(key_must_be_base64_of_16_bytes)
{
    BOOST_TEST(valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
    BOOST_TEST(valid_websocket_key("AAAAAAAAAAAAAAAAAAAA+/=="));
    BOOST_TEST(!valid_websocket_key(""));
    BOOST_TEST(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23 chars
    BOOST_TEST(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25 chars
    BOOST_TEST(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZQAA"));   // 18 bytes, no padding
    BOOST_TEST(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZ-=="));   // base64url alphabet
    BOOST_TEST(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZ===="));  // padding too early
    BOOST_TEST(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZ Q=="));
}

BOOST_AUTO_TEST_CASE(header_uses_the_shortest_length_encoding)
{
    char h[max_frame_header];
    const auto bytes = [&](std::size_t n) { return std::string(h, n); };

    BOOST_TEST(write_frame_header(h, opcode::text, 0) == 2u);
    BOOST_TEST(bytes(2) == "\x81\x00"sv);
    BOOST_TEST(write_frame_header(h, opcode::binary, 125) == 2u);
    BOOST_TEST(bytes(2) == "\x82\x7D"sv);
    BOOST_TEST(write_frame_header(h, opcode::text, 126) == 4u);
    BOOST_TEST(bytes(4) == "\x81\x7E\x00\x7E"sv);
    BOOST_TEST(write_frame_header(h, opcode::text, 65535) == 4u);
    BOOST_TEST(bytes(4) == "\x81\x7E\xFF\xFF"sv);
    BOOST_TEST(write_frame_header(h, opcode::text, 65536) == 10u);
    BOOST_TEST(bytes(10) == "\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00"sv);
    BOOST_TEST(write_frame_header(h, opcode::binary, 0x0102030405060708ull) == 10u);
    BOOST_TEST(bytes(10) == "\x82\x7F\x01\x02\x03\x04\x05\x06\x07\x08"sv);
}

BOOST_AUTO_TEST_CASE(header_carries_opcode_and_fin)
{
    char h[max_frame_header];
    BOOST_TEST(write_frame_header(h, opcode::text, 3, false) == 2u);
    BOOST_TEST(std::string(h, 2) == "\x01\x03"sv);
    write_frame_header(h, opcode::continuation, 3);
    BOOST_TEST(std::string(h, 2) == "\x80\x03"sv);
    write_frame_header(h, opcode::close, 2);
    BOOST_TEST(std::string(h, 2) == "\x88\x02"sv);
    write_frame_header(h, opcode::ping, 0);
    BOOST_TEST(std::string(h, 2) == "\x89\x00"sv);
    write_frame_header(h, opcode::pong, 0);
    BOOST_TEST(std::string(h, 2) == "\x8A\x00"sv);
}

BOOST_AUTO_TEST_CASE(masked_frames_round_trip_unmasked)
{
    for (std::size_t n : {0u, 1u, 3u, 4u, 7u, 8u, 9u, 17u, 125u, 126u, 127u, 65535u, 65536u, 70001u}) {
        BOOST_TEST_CONTEXT("payload size " << n)
        {
            const auto payload = pattern(n);
            auto buf = client_frame(opcode::binary, payload);
            const auto r = parse(buf);
            BOOST_REQUIRE(r.what == status::frame);
            BOOST_TEST(r.op == opcode::binary);
            BOOST_TEST(r.fin);
            BOOST_TEST(r.header_size == (n < 126 ? 6u : n <= 65535 ? 8u : 14u));
            BOOST_TEST(r.payload_size == n);
            BOOST_TEST(r.header_size + r.payload_size == buf.size());
            BOOST_TEST(buf.substr(r.header_size) == payload);
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_reports_opcode_and_fin)
{
    auto first = client_frame(opcode::text, "Hel", false);
    auto r = parse(first);
    BOOST_REQUIRE(r.what == status::frame);
    BOOST_TEST(r.op == opcode::text);
    BOOST_TEST(!r.fin);
    BOOST_TEST(first.substr(r.header_size) == "Hel");

    auto last = client_frame(opcode::continuation, "lo");
    r = parse(last);
    BOOST_REQUIRE(r.what == status::frame);
    BOOST_TEST(r.op == opcode::continuation);
    BOOST_TEST(r.fin);

    for (auto op : {opcode::close, opcode::ping, opcode::pong}) {
        auto buf = client_frame(op, std::string(125, 'x'));
        r = parse(buf);
        BOOST_REQUIRE(r.what == status::frame);
        BOOST_TEST(r.op == op);
        BOOST_TEST(r.payload_size == 125u);
    }
}

BOOST_AUTO_TEST_CASE(rfc_6455_masked_hello_unmasks)
{
    // RFC 6455 section 5.7: a single-frame masked text message "Hello".
    std::string buf = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    const auto r = parse(buf);
    BOOST_REQUIRE(r.what == status::frame);
    BOOST_TEST(r.header_size == 6u);
    BOOST_TEST(buf.substr(6) == "Hello");
}

BOOST_AUTO_TEST_CASE(need_more_at_every_truncation_point)
{
    for (std::size_t n : {0u, 5u, 125u, 126u, 300u, 65536u}) {
        const auto payload = pattern(n);
        auto buf = client_frame(opcode::text, payload);
        const auto original = buf;
        for (std::size_t cut = 0; cut < buf.size(); ++cut) {
            const auto r = parse_frame(buf.data(), cut, 1 << 20);
            if (r.what != status::need_more) {
                BOOST_ERROR("not need_more at " << cut << " of " << buf.size());
                break;
            }
        }
        // Nothing was unmasked while waiting, so the whole frame still parses once.
        BOOST_TEST(buf == original);
        const auto r = parse(buf);
        BOOST_REQUIRE(r.what == status::frame);
        BOOST_TEST(buf.substr(r.header_size) == payload);
    }
}

BOOST_AUTO_TEST_CASE(two_frames_back_to_back)
{
    const auto a = pattern(300);
    auto buf = client_frame(opcode::binary, a) + client_frame(opcode::ping, "are you there?");
    const auto r1 = parse(buf);
    BOOST_REQUIRE(r1.what == status::frame);
    BOOST_TEST(r1.op == opcode::binary);
    BOOST_TEST(buf.substr(r1.header_size, r1.payload_size) == a);

    const auto consumed = r1.header_size + r1.payload_size;
    const auto r2 = parse_frame(buf.data() + consumed, buf.size() - consumed, 1 << 20);
    BOOST_REQUIRE(r2.what == status::frame);
    BOOST_TEST(r2.op == opcode::ping);
    BOOST_TEST(buf.substr(consumed + r2.header_size, r2.payload_size) == "are you there?");
    BOOST_TEST(consumed + r2.header_size + r2.payload_size == buf.size());
}

BOOST_AUTO_TEST_CASE(reserved_bits_are_a_protocol_error)
{
    for (std::uint8_t rsv : {0x40, 0x20, 0x10, 0x70})
        BOOST_TEST(error_of(client_frame(static_cast<std::uint8_t>(0x81 | rsv), "x")) ==
                   close_code::protocol_error);
}

BOOST_AUTO_TEST_CASE(with_permessage_deflate_rsv1_marks_a_compressed_message_start_only)
{
    auto with_deflate = [](std::string buf) { return parse_frame(buf.data(), buf.size(), 1 << 20, true); };
    for (std::uint8_t first : {0xC1, 0xC2, 0x41}) { // text, binary, a text frame that is not the last
        const auto r = with_deflate(client_frame(first, "x"));
        BOOST_TEST(r.what == parsed_frame::status::frame);
        BOOST_TEST(r.compressed);
    }
    BOOST_TEST(!with_deflate(client_frame(0x81, "x")).compressed);
    // Not on a continuation (RFC 7692 section 6.1), not on control frames, and RSV2-3 never.
    for (std::uint8_t first : {0xC0, 0xC8, 0xC9, 0xCA, 0xA1, 0x91})
        BOOST_TEST(with_deflate(client_frame(first, "")).error_code == close_code::protocol_error);
}

BOOST_AUTO_TEST_CASE(unknown_opcodes_are_a_protocol_error)
{
    for (std::uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15})
        BOOST_TEST(error_of(client_frame(static_cast<std::uint8_t>(0x80 | op), "")) == close_code::protocol_error);
}

BOOST_AUTO_TEST_CASE(unmasked_client_frame_is_a_protocol_error)
{
    BOOST_TEST(error_of(client_frame(0x81, "hi", false)) == close_code::protocol_error);
}

BOOST_AUTO_TEST_CASE(control_frames_must_be_short_and_unfragmented)
{
    for (auto op : {opcode::close, opcode::ping, opcode::pong}) {
        const auto b0 = static_cast<std::uint8_t>(op);
        BOOST_TEST(error_of(client_frame(static_cast<std::uint8_t>(0x80 | b0), std::string(126, 'x'))) ==
                   close_code::protocol_error);
        BOOST_TEST(error_of(client_frame(b0, "")) == close_code::protocol_error);
    }
}

BOOST_AUTO_TEST_CASE(length_with_top_bit_set_is_a_protocol_error)
{
    std::string buf = "\x82\xFF\x80\x00\x00\x00\x00\x00\x00\x01"s + "\x01\x02\x03\x04";
    BOOST_TEST(error_of(buf, static_cast<std::size_t>(-1)) == close_code::protocol_error);
}

BOOST_AUTO_TEST_CASE(oversized_payload_fails_once_the_length_is_known)
{
    // Only the header is present: the error must not wait for the payload.
    auto small = client_frame(opcode::binary, pattern(101));
    BOOST_TEST(parse_frame(small.data(), 2, 100).what == status::error);
    BOOST_TEST(parse_frame(small.data(), 2, 100).error_code == close_code::message_too_big);
    BOOST_TEST(parse_frame(small.data(), small.size(), 101).what == status::frame);

    auto medium = client_frame(opcode::text, pattern(1000));
    BOOST_TEST(parse_frame(medium.data(), 3, 999).what == status::need_more); // length not complete
    BOOST_TEST(parse_frame(medium.data(), 4, 999).error_code == close_code::message_too_big);

    auto large = client_frame(opcode::binary, pattern(70000));
    BOOST_TEST(parse_frame(large.data(), 9, 69999).what == status::need_more);
    BOOST_TEST(parse_frame(large.data(), 10, 69999).error_code == close_code::message_too_big);
}

BOOST_AUTO_TEST_CASE(errors_show_before_the_header_is_complete)
{
    std::string rsv = "\xC1";
    BOOST_TEST(parse_frame(rsv.data(), 1, 100).error_code == close_code::protocol_error);
    std::string unmasked = "\x81\x05";
    BOOST_TEST(parse_frame(unmasked.data(), 2, 100).error_code == close_code::protocol_error);
}

BOOST_AUTO_TEST_CASE(non_minimal_lengths_are_accepted)
{
    auto b16 = client_frame(0x82, "abc", true, length_form::bits16);
    auto r = parse(b16);
    BOOST_REQUIRE(r.what == status::frame);
    BOOST_TEST(r.header_size == 8u);
    BOOST_TEST(b16.substr(8) == "abc");

    auto b64 = client_frame(0x82, "abc", true, length_form::bits64);
    r = parse(b64);
    BOOST_REQUIRE(r.what == status::frame);
    BOOST_TEST(r.header_size == 14u);
    BOOST_TEST(b64.substr(14) == "abc");
}

BOOST_AUTO_TEST_CASE(utf8_accepts_well_formed_text)
{
    BOOST_TEST(valid_utf8(""));
    BOOST_TEST(valid_utf8("plain ascii that is longer than eight bytes"));
    BOOST_TEST(valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5")); // κόσμε
    BOOST_TEST(valid_utf8("abcdefghi\xC3\xA9jklmnopq"));
    BOOST_TEST(valid_utf8("\xC2\x80"));             // U+0080
    BOOST_TEST(valid_utf8("\xE0\xA0\x80"));         // U+0800
    BOOST_TEST(valid_utf8("\xED\x9F\xBF"));         // U+D7FF, just below the surrogates
    BOOST_TEST(valid_utf8("\xEE\x80\x80"));         // U+E000, just above
    BOOST_TEST(valid_utf8("\xEF\xBF\xBF"));         // U+FFFF
    BOOST_TEST(valid_utf8("\xF0\x90\x80\x80"));     // U+10000
    BOOST_TEST(valid_utf8("\xF0\x9F\x98\x80"));     // emoji
    BOOST_TEST(valid_utf8("\xF4\x8F\xBF\xBF"));     // U+10FFFF
    BOOST_TEST(valid_utf8("\0nul is fine"sv));
}

BOOST_AUTO_TEST_CASE(utf8_rejects_ill_formed_text)
{
    BOOST_TEST(!valid_utf8("\xC0\xAF"));            // overlong '/'
    BOOST_TEST(!valid_utf8("\xC1\xBF"));            // overlong
    BOOST_TEST(!valid_utf8("\xE0\x80\xAF"));        // overlong, 3 bytes
    BOOST_TEST(!valid_utf8("\xF0\x80\x80\xAF"));    // overlong, 4 bytes
    BOOST_TEST(!valid_utf8("\xED\xA0\x80"));        // U+D800
    BOOST_TEST(!valid_utf8("\xED\xBF\xBF"));        // U+DFFF
    BOOST_TEST(!valid_utf8("\xF4\x90\x80\x80"));    // U+110000
    BOOST_TEST(!valid_utf8("\xF5\x80\x80\x80"));
    BOOST_TEST(!valid_utf8("\xE2\x82"));            // truncated
    BOOST_TEST(!valid_utf8("\xF0\x9F\x98"));        // truncated
    BOOST_TEST(!valid_utf8("\x80"));                // lone continuation
    BOOST_TEST(!valid_utf8("\xFF"));
    BOOST_TEST(!valid_utf8("\xE2\x28\xA1"));        // bad continuation
    BOOST_TEST(!valid_utf8("\xF0\x9F\x28\x80"));    // bad third byte
    BOOST_TEST(!valid_utf8("abcdefgh\xE2\x82"));    // after the ASCII fast path
    BOOST_TEST(!valid_utf8("abcdefghijklmno\x80"));
}

BOOST_AUTO_TEST_CASE(close_payload_is_code_then_reason)
{
    char out[125];
    const auto n = write_close_payload(out, close_code::going_away, "bye");
    BOOST_TEST(std::string(out, n) == "\x03\xE9" "bye"sv);
    BOOST_TEST(write_close_payload(out, close_code::normal, "") == 2u);
    BOOST_TEST(std::string(out, 2) == "\x03\xE8"sv);
}

BOOST_AUTO_TEST_CASE(close_reason_is_cut_to_fit_a_control_frame)
{
    char out[125];
    BOOST_TEST(write_close_payload(out, close_code::normal, std::string(200, 'r')) == 125u);
    BOOST_TEST(std::string(out + 2, 123) == std::string(123, 'r'));

    // 122 ASCII bytes then "é": the 2-byte character would straddle the limit.
    const auto reason = std::string(122, 'r') + "\xC3\xA9";
    const auto n = write_close_payload(out, close_code::normal, reason);
    BOOST_TEST(n == 124u);
    BOOST_TEST(valid_utf8(std::string_view(out + 2, n - 2)));
}

BOOST_AUTO_TEST_CASE(close_payload_parses_and_validates)
{
    const auto empty = parse_close_payload("");
    BOOST_TEST(empty.valid);
    BOOST_TEST(empty.code == close_code::no_status);
    BOOST_TEST(empty.code == 1005);

    BOOST_TEST(!parse_close_payload("\x03"sv).valid);

    const auto normal = parse_close_payload("\x03\xE8" "done"sv);
    BOOST_TEST(normal.valid);
    BOOST_TEST(normal.code == 1000);
    BOOST_TEST(normal.reason == "done");

    const auto code_only = parse_close_payload("\x0F\xA0"sv); // 4000
    BOOST_TEST(code_only.valid);
    BOOST_TEST(code_only.code == 4000);
    BOOST_TEST(code_only.reason.empty());

    BOOST_TEST(!parse_close_payload("\x03\xE8\xC0\xAF"sv).valid); // reason not UTF-8

    char out[125];
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                               3999, 4000, 4999}) {
        const auto n = write_close_payload(out, code, "ok");
        const auto r = parse_close_payload(std::string_view(out, n));
        BOOST_TEST(r.valid, "code " << code);
        BOOST_TEST(r.code == code);
    }
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        const auto n = write_close_payload(out, code, "");
        BOOST_TEST(!parse_close_payload(std::string_view(out, n)).valid, "code " << code);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_beast_websocket_frame_test
