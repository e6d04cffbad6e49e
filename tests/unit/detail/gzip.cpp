#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/detail/gzip.hpp>

#include <boost/test/unit_test.hpp>

#include <limits>
#include <random>
#include <string>

namespace unit_detail_gzip_test {

using incsync::detail::accepts_gzip;
using incsync::detail::gzip_compress;
using incsync::detail::gzip_decompress;

std::string pull_like_body(std::size_t records)
{
    std::string s = R"({"entity_type":"product","changes":[)";
    for (std::size_t i = 0; i < records; ++i) {
        if (i) s.push_back(',');
        s += R"({"id":)" + std::to_string(i) + R"(,"change_type":"update","data":{"name":"Product )" +
             std::to_string(i * 7919 % 100003) + R"(","price_cents":)" + std::to_string(i * 31 % 9999) + "}}";
    }
    return s + "]}";
}

BOOST_AUTO_TEST_SUITE(gzip_suite)

BOOST_AUTO_TEST_CASE(accept_encoding_is_read_as_rfc_9110_says)
{
    BOOST_TEST(accepts_gzip("gzip"));
    BOOST_TEST(accepts_gzip("GZip"));
    BOOST_TEST(accepts_gzip("deflate, gzip;q=1.0, br"));
    BOOST_TEST(accepts_gzip(" x-gzip "));
    BOOST_TEST(accepts_gzip("*"));
    BOOST_TEST(accepts_gzip("gzip;q=0.5"));
    BOOST_TEST(accepts_gzip("gzip;q=0.001"));
    BOOST_TEST(!accepts_gzip(""));
    BOOST_TEST(!accepts_gzip("identity"));
    BOOST_TEST(!accepts_gzip("br, deflate"));
    BOOST_TEST(!accepts_gzip("gzip;q=0"));
    BOOST_TEST(!accepts_gzip("gzip; q=0.000"));
    BOOST_TEST(!accepts_gzip("*, gzip;q=0")); // the explicit refusal wins
    BOOST_TEST(!accepts_gzip("*;q=0"));
    BOOST_TEST(!accepts_gzip("gzipx"));
}

BOOST_AUTO_TEST_CASE(a_body_survives_the_round_trip_smaller)
{
    const auto body = pull_like_body(1000);
    std::string gz, back;
    BOOST_TEST_REQUIRE(gzip_compress(body, gz));
    BOOST_TEST(gz.size() * 4 < body.size());
    BOOST_TEST(static_cast<unsigned char>(gz[0]) == 0x1f); // the gzip magic
    BOOST_TEST(static_cast<unsigned char>(gz[1]) == 0x8b);
    BOOST_TEST_REQUIRE(gzip_decompress(gz, back, body.size()));
    BOOST_TEST(back == body);
    for (int level : {1, 9}) {
        BOOST_TEST_REQUIRE(gzip_compress(body, gz, level));
        BOOST_TEST_REQUIRE(gzip_decompress(gz, back, body.size()));
        BOOST_TEST(back == body);
    }
}

BOOST_AUTO_TEST_CASE(incompressible_and_empty_bodies_round_trip)
{
    std::mt19937 rng(3);
    std::string noise(100000, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    std::string gz, back;
    BOOST_TEST_REQUIRE(gzip_compress(noise, gz)); // the worst case fits the bound
    BOOST_TEST_REQUIRE(gzip_decompress(gz, back, noise.size()));
    BOOST_TEST(back == noise);
    BOOST_TEST_REQUIRE(gzip_compress("", gz));
    BOOST_TEST_REQUIRE(gzip_decompress(gz, back, 0));
    BOOST_TEST(back.empty());
}

BOOST_AUTO_TEST_CASE(a_bomb_stops_at_the_limit)
{
    const std::string zeros(10 << 20, '0');
    std::string gz, back;
    BOOST_TEST_REQUIRE(gzip_compress(zeros, gz, 9));
    BOOST_TEST(gz.size() < 20000u);
    BOOST_TEST(!gzip_decompress(gz, back, 1 << 20));
    BOOST_TEST(back.empty());
    BOOST_TEST(gzip_decompress(gz, back, zeros.size())); // exactly the limit is allowed
    BOOST_TEST(back.size() == zeros.size());
    BOOST_TEST(gzip_decompress(gz, back, std::numeric_limits<std::size_t>::max())); // no limit
    BOOST_TEST(back.size() == zeros.size());
}

BOOST_AUTO_TEST_CASE(truncated_corrupt_and_trailing_bytes_are_refused)
{
    const auto body = pull_like_body(50);
    std::string gz, back;
    BOOST_TEST_REQUIRE(gzip_compress(body, gz));
    BOOST_TEST(!gzip_decompress(std::string_view(gz).substr(0, gz.size() - 1), back, 1 << 20));
    BOOST_TEST(!gzip_decompress(std::string_view(gz).substr(0, gz.size() / 2), back, 1 << 20));
    BOOST_TEST(!gzip_decompress(gz + "x", back, 1 << 20));
    BOOST_TEST(!gzip_decompress(body, back, 1 << 20)); // not gzip at all
    auto flipped = gz;
    flipped[flipped.size() - 6] ^= 0x55; // the CRC-32 no longer matches
    BOOST_TEST(!gzip_decompress(flipped, back, 1 << 20));
    BOOST_TEST(!gzip_decompress("", back, 1 << 20));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_detail_gzip_test
