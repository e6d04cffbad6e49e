#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/detail/query_string.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>

namespace unit_detail_query_string_test {

using incsync::detail::parse_target;

BOOST_AUTO_TEST_SUITE(query_string_suite)

BOOST_AUTO_TEST_CASE(plain_parameters_are_views_into_the_target)
{
    const std::string raw = "/api/v1/sync/products?since=abc-_DEF&limit=100&delta";
    const auto t = parse_target(raw);
    BOOST_TEST(t.path == "/api/v1/sync/products");
    BOOST_TEST(!t.malformed);
    BOOST_TEST(t.get("since").value() == "abc-_DEF");
    BOOST_TEST(t.get("since")->data() == raw.data() + raw.find("abc")); // no copy
    BOOST_TEST(t.get("limit").value() == "100");
    BOOST_TEST(t.get("delta").value().empty());
    BOOST_TEST(!t.get("store_id"));
}

BOOST_AUTO_TEST_CASE(escapes_and_plus_are_decoded)
{
    const auto t = parse_target("/p?name=a%20b+c&k%3D=%2B&since=2025-12-23T10%3A30%3A00Z");
    BOOST_TEST(!t.malformed);
    BOOST_TEST(t.get("name").value() == "a b c");
    BOOST_TEST(t.get("k=").value() == "+");
    BOOST_TEST(t.get("since").value() == "2025-12-23T10:30:00Z");
}

BOOST_AUTO_TEST_CASE(the_first_of_repeated_parameters_wins)
{
    const auto t = parse_target("/p?a=1&&a=2");
    BOOST_TEST(t.get("a").value() == "1");
    BOOST_TEST(t.params.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bad_escapes_and_nul_bytes_are_malformed)
{
    for (const std::string& bad : {std::string("/p?a=%"), std::string("/p?a=%4"), std::string("/p?a=%zz"), std::string("/p?a=%00"),
                                  std::string("/p?%00=1"), std::string("/p?a=x\0y", 8)}) {
        const auto t = parse_target(bad);
        BOOST_TEST(t.malformed, bad);
        BOOST_TEST(!t.get("a"), bad);
    }
}

BOOST_AUTO_TEST_CASE(decoded_views_survive_a_move_and_many_parameters)
{
    std::string raw = "/p?";
    for (int i = 0; i < 40; ++i) raw += "k" + std::to_string(i) + "=v%20" + std::to_string(i) + "&";
    auto t = parse_target(raw);
    auto moved = std::move(t); // the decoded strings live in nodes that do not move
    BOOST_TEST(moved.params.size() == 40u);
    for (int i = 0; i < 40; ++i)
        BOOST_TEST(moved.get("k" + std::to_string(i)).value() == "v " + std::to_string(i));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_detail_query_string_test
