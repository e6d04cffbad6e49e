#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/detail/json_writer.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

namespace unit_detail_json_writer_test {

using incsync::detail::append_json_string;
using namespace std::string_literals;

std::string as_json_string(std::string_view s)
{
    std::string out;
    append_json_string(out, s);
    return out;
}

BOOST_AUTO_TEST_SUITE(json_writer_suite)

BOOST_AUTO_TEST_CASE(control_characters_and_quotes_are_escaped)
{
    BOOST_TEST(as_json_string("a\"b\\c\n\t\x01\x7f") == R"("a\"b\\c\n\t\u0001)"s + "\x7f\"");
    BOOST_TEST(as_json_string(""s) == "\"\"");
    BOOST_TEST(as_json_string("\0"s) == R"("\u0000")");
}

BOOST_AUTO_TEST_CASE(well_formed_utf8_is_kept_as_it_is)
{
    for (const std::string& s : {"caf\xc3\xa9"s, "\xf0\x9f\x98\x80"s, "\xe2\x82\xac 5"s, "\xf4\x8f\xbf\xbf"s, "\xed\x9f\xbf"s}) {
        BOOST_TEST_CONTEXT(s) { BOOST_TEST(as_json_string(s) == '"' + s + '"'); }
    }
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_become_replacement_characters)
{
    // fuzz_http_request (corpus/http_request/unknown_entity_type_bytes): a
    // request's bytes echoed in an error message made the body invalid JSON.
    BOOST_TEST(as_json_string("a\xff" "b") == R"("a\ufffdb")");
    BOOST_TEST(as_json_string("\xc0\xaf") == R"("\ufffd\ufffd")");               // overlong
    BOOST_TEST(as_json_string("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");     // surrogate
    BOOST_TEST(as_json_string("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")"); // above U+10FFFF
    BOOST_TEST(as_json_string("abc\xe2\x82") == R"("abc\ufffd\ufffd")");         // truncated
    BOOST_TEST(as_json_string("\xe2\x82\xac\x80") == "\"\xe2\x82\xac\\ufffd\"");  // stray continuation
    for (int b = 0x80; b <= 0xff; ++b) {
        const std::string s(1, static_cast<char>(b));
        boost::system::error_code ec;
        const auto v = boost::json::parse(as_json_string(s), ec);
        BOOST_TEST_REQUIRE(!ec, b);
        BOOST_TEST(v.as_string() == "\xef\xbf\xbd");
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_detail_json_writer_test
