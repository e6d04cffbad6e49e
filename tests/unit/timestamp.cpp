#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/timestamp.hpp>

#include <boost/json/value_to.hpp>
#include <boost/test/unit_test.hpp>

#include <random>

namespace unit_timestamp_test {

using incsync::timestamp;

BOOST_AUTO_TEST_SUITE(timestamp_suite)

BOOST_AUTO_TEST_CASE(formats_utc_with_microseconds)
{
    BOOST_TEST(incsync::format_timestamp({0}) == "1970-01-01T00:00:00.000000Z");
    // 2025-12-23T10:30:00.123456Z
    const auto t = incsync::parse_timestamp("2025-12-23T10:30:00.123456Z");
    BOOST_REQUIRE(t);
    BOOST_TEST(t->micros == 1766485800123456);
    BOOST_TEST(incsync::format_timestamp(*t) == "2025-12-23T10:30:00.123456Z");
    BOOST_TEST(incsync::format_timestamp({-1}) == "1969-12-31T23:59:59.999999Z");
}

BOOST_AUTO_TEST_CASE(round_trips_random_instants)
{
    std::mt19937_64 g(7);
    std::uniform_int_distribution<std::int64_t> d(incsync::detail::min_micros, incsync::detail::max_micros);
    for (int i = 0; i < 20000; ++i) {
        const timestamp t{d(g)};
        const auto s = incsync::format_timestamp(t);
        const auto back = incsync::parse_timestamp(s);
        BOOST_REQUIRE_MESSAGE(back && *back == t, s);
    }
}

BOOST_AUTO_TEST_CASE(accepts_any_rfc3339_offset_and_precision)
{
    const auto z = *incsync::parse_timestamp("2025-12-23T10:30:00Z");
    BOOST_TEST(incsync::parse_timestamp("2025-12-23T12:30:00+02:00")->micros == z.micros);
    BOOST_TEST(incsync::parse_timestamp("2025-12-23T05:00:00-05:30")->micros == z.micros);
    BOOST_TEST(incsync::parse_timestamp("2025-12-23t10:30:00z")->micros == z.micros);
    BOOST_TEST(incsync::parse_timestamp("2025-12-23 10:30:00Z")->micros == z.micros);
    BOOST_TEST(incsync::parse_timestamp("2025-12-23T10:30:00.5Z")->micros == z.micros + 500000);
    // Beyond microseconds: truncated toward the past, never rounded up.
    BOOST_TEST(incsync::parse_timestamp("2025-12-23T10:30:00.123456999Z")->micros == z.micros + 123456);
    // A leap second is the last microsecond of its minute.
    BOOST_TEST(incsync::parse_timestamp("2016-12-31T23:59:60Z")->micros
               == incsync::parse_timestamp("2016-12-31T23:59:59.999999Z")->micros);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_timestamps)
{
    for (const char* bad : {"", "2025", "2025-12-23", "2025-12-23T10:30:00", "2025-13-01T00:00:00Z",
                            "2025-02-29T00:00:00Z", "2025-12-32T00:00:00Z", "2025-12-23T24:00:00Z",
                            "2025-12-23T10:60:00Z", "2025-12-23T10:30:00.Z", "2025-12-23T10:30:00+0200",
                            "2025-12-23T10:30:00+24:00", "2025-12-23T10:30:00Zjunk", "0000-01-01T00:00:00Z",
                            "２０２５-12-23T10:30:00Z"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!incsync::parse_timestamp(bad).has_value()); }
    }
    BOOST_TEST(!incsync::parse_timestamp(std::string_view("2025-12-23T10:30:00Z\0", 21)).has_value()); // NUL byte
    BOOST_TEST(incsync::parse_timestamp("2024-02-29T00:00:00Z").has_value()); // leap year
    BOOST_TEST(incsync::parse_timestamp("x").error() == incsync::error::bad_timestamp);
}

BOOST_AUTO_TEST_CASE(converts_through_boost_json)
{
    const timestamp t{1766485800123456};
    const auto jv = boost::json::value_from(t);
    BOOST_TEST(jv.as_string() == "2025-12-23T10:30:00.123456Z");
    BOOST_TEST(boost::json::value_to<timestamp>(jv) == t);
    BOOST_TEST(!boost::json::try_value_to<timestamp>(boost::json::value(12)).has_value());
}

BOOST_AUTO_TEST_CASE(an_offset_cannot_carry_an_instant_out_of_the_written_years)
{
    // fuzz_entity_json (corpus/entity_json/product_timestamp_offset): such an
    // instant was accepted, then written back clamped to 0001-01-01T00:00:00Z,
    // so a record did not read back as itself.
    for (const char* outside : {"0001-01-01T00:30:00+01:00", "0001-01-01T00:00:00+00:01",
                                "9999-12-31T23:59:59-00:01", "9999-12-31T23:30:00.5-23:59"}) {
        BOOST_TEST_CONTEXT(outside) { BOOST_TEST(incsync::parse_timestamp(outside).error() == incsync::error::bad_timestamp); }
    }
    for (const char* edge : {"0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00", "9999-12-31T23:59:59.999999Z",
                             "9999-12-31T22:59:59.999999-01:00"}) {
        BOOST_TEST_CONTEXT(edge)
        {
            const auto t = incsync::parse_timestamp(edge);
            BOOST_TEST_REQUIRE(t.has_value());
            BOOST_TEST(incsync::parse_timestamp(incsync::format_timestamp(*t)).value() == *t);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_timestamp_test
