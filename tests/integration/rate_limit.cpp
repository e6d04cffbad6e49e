// Rate limiting (PROTOCOL.md section 6): 429 `rate_limited` with Retry-After,
// per client.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <charconv>

namespace integration_rate_limit_test {

using namespace it;

struct limited : server_fixture {
    limited() : server_fixture([](auto& o) { o.rate = {1, 3}; }) {}
};

long retry_after(const http_reply& r)
{
    const auto h = r.header("Retry-After");
    long v = -1;
    auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), v);
    return ec == std::errc{} && p == h.data() + h.size() ? v : -1;
}

BOOST_FIXTURE_TEST_SUITE(rate_limit_suite, limited)

BOOST_AUTO_TEST_CASE(the_request_after_the_burst_is_429_with_retry_after)
{
    auto c = http();
    for (int i = 0; i < 3; ++i) BOOST_TEST(c.get("/api/v1/sync/products").status == 200u, "request " << i + 1);
    auto r = c.get("/api/v1/sync/products");
    BOOST_TEST(r.status == 429u);
    BOOST_TEST(r.is_error("rate_limited"), r.body());
    BOOST_TEST(retry_after(r) >= 1, "Retry-After: '" << r.header("Retry-After") << "'");
    BOOST_TEST(stats().rate_limited == 1u);
    // The connection survives a 429.
    BOOST_TEST(c.connected());
    // Another token has its own bucket ...
    auto other = http();
    for (int i = 0; i < 3; ++i) BOOST_TEST(other.get("/api/v1/sync/products", till_1).status == 200u);
    // ... and so do requests without a valid token (by address).
    BOOST_TEST(other.get("/api/v1/sync/products", "").status == 401u);
    BOOST_TEST(other.get("/api/v1/sync/products", "nonsense").status == 401u);
    // Still limited: the bucket refills at one a second.
    BOOST_TEST(c.get("/api/v1/sync/products").status == 429u);
}

BOOST_AUTO_TEST_CASE(upgrades_and_streams_count_against_the_same_bucket)
{
    auto c = http();
    for (int i = 0; i < 3; ++i) BOOST_TEST(c.get("/api/v1/sync/products", till_2).status == 200u);
    ws_client ws(port(), "/ws/sync/1?token=till-2");
    BOOST_TEST(!ws.is_open());
    BOOST_TEST(ws.status() == 429u);
    BOOST_TEST(is_error_body(ws.refusal_body(), "rate_limited"), ws.refusal_body());
    sse_client sse(port(), "/api/v1/sync/events?token=till-2");
    BOOST_TEST(sse.status() == 429u);
    // The admin is not affected.
    ws_client admin(port(), "/ws/sync/console?token=admin-token");
    BOOST_TEST(admin.is_open());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_rate_limit_test
