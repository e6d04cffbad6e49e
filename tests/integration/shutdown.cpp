// Shutdown: `server::stop()` closes every connection (WebSockets with 1001)
// and the io_context runs out of work.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <future>

namespace integration_shutdown_test {

using namespace it;

BOOST_AUTO_TEST_SUITE(shutdown_suite)

BOOST_AUTO_TEST_CASE(stop_closes_websockets_with_1001_and_everything_else_and_the_threads_finish)
{
    server_fixture f({}, 2);
    ws_client a(f.port(), "/ws/sync/1?store_id=1&token=till-1");
    ws_client b(f.port(), "/ws/sync/console?token=admin-token");
    raw_ws_client raw(f.port(), "/ws/sync/2?store_id=2&token=till-2");
    sse_client sse(f.port(), "/api/v1/sync/events?token=admin-token");
    auto idle = f.http();
    BOOST_TEST_REQUIRE(idle.get("/api/v1/sync/check").status == 200u);
    auto since = std::string(idle.get("/api/v1/sync/check").json().at("next_since").as_string());
    auto poll = std::async(std::launch::async, [port = f.port(), since] {
        http_client waiter(port);
        return waiter.get("/api/v1/sync/check?wait=30&since=" + since);
    });
    BOOST_TEST_REQUIRE(a.is_open());
    BOOST_TEST_REQUIRE(b.is_open());
    BOOST_TEST_REQUIRE(raw.upgraded());
    BOOST_TEST_REQUIRE(sse.status() == 200u);
    BOOST_TEST_REQUIRE(f.wait_for_stats([](const auto& s) {
        return s.websocket_connections == 3 && s.event_streams == 1 && s.long_polls == 1 && s.http_connections == 2;
    }));

    const auto t0 = steady::now();
    f.stop();
    BOOST_TEST(a.wait_closed().value_or(-1) == 1001);
    BOOST_TEST(b.wait_closed().value_or(-1) == 1001);
    BOOST_TEST(raw.read_close_code().value_or(-1) == 1001);
    BOOST_TEST(!sse.next(2s).has_value());
    BOOST_TEST(sse.raw().peer_closed());
    BOOST_TEST_REQUIRE((poll.wait_for(5s) == std::future_status::ready));
    BOOST_TEST(poll.get().status == 0u); // closed without an answer
    // The raw client answers the close handshake; Beast did on its own.
    BOOST_TEST(raw.send_frame(raw_ws_client::op_close, std::string("\x03\xe9", 2)));
    BOOST_TEST(f.wait_stopped(5s), "the io_context threads did not finish");
    BOOST_TEST((steady::now() - t0 < 3s));
    // Nobody new gets in.
    raw_client late(f.port());
    BOOST_TEST(!late.connected());
}

BOOST_AUTO_TEST_CASE(stop_with_no_connections_finishes_at_once)
{
    server_fixture f;
    const auto t0 = steady::now();
    f.stop();
    BOOST_TEST(f.wait_stopped(2s));
    BOOST_TEST((steady::now() - t0 < 1s));
    f.stop(); // idempotent
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_shutdown_test
