#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/decimal.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value_to.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>
#include <random>

namespace unit_decimal_test {

using incsync::decimal;

BOOST_AUTO_TEST_SUITE(decimal_suite)

BOOST_AUTO_TEST_CASE(formats_shortest_exact_form)
{
    BOOST_TEST(incsync::format_decimal(decimal{0}) == "0");
    BOOST_TEST(incsync::format_decimal(decimal::from_integer(2)) == "2");
    BOOST_TEST(incsync::format_decimal(decimal{1'500'000}) == "1.5");
    BOOST_TEST(incsync::format_decimal(decimal{-1}) == "-0.000001");
    BOOST_TEST(incsync::format_decimal(decimal{std::numeric_limits<std::int64_t>::min()})
               == "-9223372036854.775808");
}

BOOST_AUTO_TEST_CASE(round_trips_random_values)
{
    std::mt19937_64 g(3);
    for (int i = 0; i < 20000; ++i) {
        const decimal d{static_cast<std::int64_t>(g()) / (i % 2 ? 1 : 1'000'000)};
        const auto s = incsync::format_decimal(d);
        if (d.millionths == std::numeric_limits<std::int64_t>::min()) continue;
        const auto back = incsync::parse_decimal(s);
        BOOST_REQUIRE_MESSAGE(back && *back == d, s);
    }
}

BOOST_AUTO_TEST_CASE(rejects_what_would_lose_digits_or_is_not_a_number)
{
    for (const char* bad : {"", "-", ".5", "1.", "1.0000001", "1e3", "0x10", " 1", "1 ", "+1",
                            "99999999999999999999", "NaN"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!incsync::parse_decimal(bad).has_value()); }
    }
    BOOST_TEST(incsync::parse_decimal("007.250")->millionths == 7'250'000);
}

BOOST_AUTO_TEST_CASE(is_a_string_on_the_wire_never_a_float)
{
    BOOST_TEST(boost::json::value_from(decimal{1'250'000}).as_string() == "1.25");
    BOOST_TEST(boost::json::value_to<decimal>(boost::json::parse("\"1.25\"")).millionths == 1'250'000);
    BOOST_TEST(boost::json::value_to<decimal>(boost::json::parse("3")).millionths == 3'000'000);
    BOOST_TEST(!boost::json::try_value_to<decimal>(boost::json::parse("1.25")).has_value());
    BOOST_TEST(!boost::json::try_value_to<decimal>(boost::json::parse("18446744073709551615")).has_value());
    BOOST_TEST(!boost::json::try_value_to<decimal>(boost::json::parse("null")).has_value());
}

BOOST_AUTO_TEST_CASE(the_extremes_parse_without_overflow)
{
    // fuzz_entity_json (corpus/entity_json/decimal_min): the whole part passed its
    // range check, then whole * 10^6 + fraction overflowed int64 (UBSan).
    constexpr auto max = std::numeric_limits<std::int64_t>::max(), min = std::numeric_limits<std::int64_t>::min();
    BOOST_TEST(incsync::parse_decimal("9223372036854.775807")->millionths == max);
    BOOST_TEST(incsync::parse_decimal("-9223372036854.775808")->millionths == min);
    for (const char* over : {"9223372036854.775808", "9223372036854.9", "-9223372036854.775809", "-9223372036854.9"}) {
        BOOST_TEST_CONTEXT(over) { BOOST_TEST(incsync::parse_decimal(over).error() == incsync::error::bad_decimal); }
    }
    for (const auto v : {max, min, min + 1}) {
        const auto text = incsync::format_decimal(decimal{v});
        BOOST_TEST_CONTEXT(text) { BOOST_TEST(incsync::parse_decimal(text)->millionths == v); }
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_decimal_test
