#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/server/rate_limiter.hpp>

#include <boost/test/unit_test.hpp>

namespace unit_server_rate_limiter_test {

using incsync::server::rate_limiter;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(server_rate_limiter)

BOOST_AUTO_TEST_CASE(burst_is_allowed_then_limited_with_a_retry_delay)
{
    rate_limiter limiter({2, 5});
    const auto t0 = rate_limiter::clock::now();
    for (int i = 0; i < 5; ++i) BOOST_TEST(limiter.acquire("a", t0) == 0u);
    const auto wait = limiter.acquire("a", t0);
    BOOST_TEST(wait == 1u); // one token back after 0.5 s: whole seconds, rounded up
    BOOST_TEST(limiter.acquire("b", t0) == 0u); // another client has its own bucket
}

BOOST_AUTO_TEST_CASE(bucket_refills_at_the_sustained_rate)
{
    rate_limiter limiter({10, 1});
    const auto t0 = rate_limiter::clock::now();
    BOOST_TEST(limiter.acquire("a", t0) == 0u);
    BOOST_TEST(limiter.acquire("a", t0 + 50ms) != 0u);
    BOOST_TEST(limiter.acquire("a", t0 + 150ms) == 0u);
}

BOOST_AUTO_TEST_CASE(retry_after_grows_with_a_slow_rate)
{
    rate_limiter limiter({0.25, 1});
    const auto t0 = rate_limiter::clock::now();
    BOOST_TEST(limiter.acquire("a", t0) == 0u);
    BOOST_TEST(limiter.acquire("a", t0) == 4u);
}

BOOST_AUTO_TEST_CASE(disabled_limiter_allows_everything)
{
    rate_limiter limiter({0, 0});
    BOOST_TEST(!limiter.enabled());
    for (int i = 0; i < 1000; ++i) BOOST_TEST(limiter.acquire("a") == 0u);
    BOOST_TEST(limiter.clients() == 0u);
}

BOOST_AUTO_TEST_CASE(client_table_stays_bounded)
{
    rate_limiter limiter({1, 1}, 100);
    const auto t0 = rate_limiter::clock::now();
    for (int i = 0; i < 10'000; ++i) limiter.acquire("client-" + std::to_string(i), t0);
    BOOST_TEST(limiter.clients() <= 100u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_server_rate_limiter_test
