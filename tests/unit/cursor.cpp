#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/cursor.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <random>
#include <string>

namespace unit_cursor_test {

using namespace incsync;

BOOST_AUTO_TEST_SUITE(cursor_suite)

BOOST_AUTO_TEST_CASE(round_trips)
{
    std::mt19937_64 g(5);
    for (int i = 0; i < 5000; ++i) {
        cursor c{g(), 0, 0, static_cast<std::uint32_t>(g()), std::nullopt};
        c.version = g();
        c.base = c.version - (c.version % 3 ? 0 : c.version / 2);
        if (i % 2) c.store_id = static_cast<std::int64_t>(g());
        const auto text = encode_cursor(c);
        BOOST_REQUIRE(text.starts_with("v1"));
        BOOST_REQUIRE_EQUAL(text.size(), 57u);
        auto back = decode_cursor(text);
        BOOST_REQUIRE(back.has_value());
        BOOST_REQUIRE((*back == c));
    }
}

BOOST_AUTO_TEST_CASE(garbled_cursors_are_a_clear_error)
{
    const auto good = encode_cursor({1, 42, 40, cursor_tag("product"), std::nullopt});
    // Every single-character change is caught.
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (char c : std::string_view("Aa0-_z")) {
            std::string bad = good;
            if (bad[i] == c) continue;
            bad[i] = c;
            BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!decode_cursor(bad).has_value()); }
        }
    }
    for (std::string_view bad : {"v1", "v1!!!!", "x", "v2AAAA", "v1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
        BOOST_TEST(decode_cursor(bad).error() == error::bad_cursor);
    BOOST_TEST(!decode_cursor(good.substr(0, good.size() - 1)).has_value());
    // Well-formed but impossible: a base ahead of the scan position.
    BOOST_TEST(decode_cursor(encode_cursor({1, 5, 9, 0, std::nullopt})).error() == error::bad_cursor);
    BOOST_TEST(!decode_cursor(good + "A").has_value());
    BOOST_TEST(!decode_cursor(std::string(100000, 'v')).has_value());
}

BOOST_AUTO_TEST_CASE(since_is_empty_a_timestamp_or_a_cursor)
{
    BOOST_TEST(std::holds_alternative<std::monostate>(*parse_since("")));
    BOOST_TEST(std::get<timestamp>(*parse_since("2025-12-23T10:30:00Z")).micros == 1766485800000000);
    const cursor c{9, 10, 10, 11, 12};
    BOOST_TEST((std::get<cursor>(*parse_since(encode_cursor(c))) == c));
    BOOST_TEST(parse_since("2025-99-99").error() == error::bad_timestamp);
    BOOST_TEST(parse_since("yesterday").error() == error::bad_cursor);
}

BOOST_AUTO_TEST_CASE(a_cursor_has_one_token)
{
    // fuzz_cursor (corpus/cursor/payload_flag0_store_bytes): a global cursor
    // whose store bytes were not zero decoded (its checksum matched), so two
    // tokens named one cursor. Such a token is refused now.
    std::array<std::uint8_t, incsync::detail::cursor_payload + 4> bytes{};
    incsync::detail::put_u64(bytes.data(), 1);      // epoch
    incsync::detail::put_u64(bytes.data() + 8, 5);  // version
    incsync::detail::put_u64(bytes.data() + 16, 5); // base
    incsync::detail::put_u32(bytes.data() + 24, cursor_tag("product"));
    bytes[28] = 0;                         // no store...
    incsync::detail::put_u64(bytes.data() + 29, 77); // ...but store bytes
    incsync::detail::put_u32(bytes.data() + incsync::detail::cursor_payload, incsync::detail::cursor_checksum(bytes.data(), incsync::detail::cursor_payload));
    std::string token(incsync::detail::cursor_prefix);
    incsync::detail::base64url_append(token, bytes.data(), bytes.size());
    BOOST_TEST(decode_cursor(token).error() == error::bad_cursor);
    const cursor global{1, 5, 5, cursor_tag("product"), std::nullopt};
    BOOST_TEST(token != encode_cursor(global));
    BOOST_TEST((decode_cursor(encode_cursor(global)).value() == global));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_cursor_test
