// HTTP connections: keep-alive, HTTP/1.0, pipelining, idle timeout.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

namespace integration_connection_test {

using namespace it;

const std::string auth = "Authorization: Bearer admin-token\r\n";

BOOST_FIXTURE_TEST_SUITE(connection_suite, server_fixture)

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection)
{
    auto c = http();
    BOOST_TEST_REQUIRE(c.get("/api/v1/sync/products").status == 200u);
    const auto local = c.local_port();
    BOOST_TEST(local != 0u);
    (void)create(c, "products", R"({"name":"Espresso"})");
    BOOST_TEST(c.get("/api/v1/products/1").status == 200u);
    BOOST_TEST(c.get("/api/v1/nope").status == 404u);      // an error answer keeps the connection
    BOOST_TEST(c.get("/api/v1/sync/products", "").status == 401u);
    BOOST_TEST(c.send(http::verb::post, "/api/v1/products", "{").status == 400u);
    BOOST_TEST(c.get("/api/v1/sync/check").status == 200u);
    BOOST_TEST(c.connected());
    BOOST_TEST(c.local_port() == local);
    BOOST_TEST(stats().http_connections == 1u);
    BOOST_TEST(stats().requests == 7u);
}

BOOST_AUTO_TEST_CASE(an_http_1_0_request_is_answered_and_the_connection_closed)
{
    raw_client c(port());
    BOOST_TEST_REQUIRE(c.write("GET /api/v1/sync/products HTTP/1.0\r\n" + auth + "\r\n"));
    BOOST_TEST(c.read_until_close(), "still open: " << c.received());
    auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u, c.received());
    BOOST_TEST(responses[0].result_int() == 200u);
    BOOST_TEST(responses[0].version() == 10u);
    BOOST_TEST(!responses[0].keep_alive());
    BOOST_TEST(json::parse(responses[0].body()).at("entity_type") == json::value("product"));
    // HTTP/1.0 asking for keep-alive gets it.
    raw_client k(port());
    BOOST_TEST_REQUIRE(k.write("GET /api/v1/sync/check HTTP/1.0\r\nConnection: keep-alive\r\n" + auth + "\r\n"));
    BOOST_TEST_REQUIRE(k.read_until("]"));
    BOOST_TEST((k.read_some(200ms) != raw_client::read_status::closed));
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured)
{
    raw_client c(port());
    BOOST_TEST_REQUIRE(c.write("GET /api/v1/sync/check HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + "\r\n"));
    BOOST_TEST(c.read_until_close());
    auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 1u);
    BOOST_TEST(responses[0].result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order)
{
    raw_client c(port());
    std::string batch;
    for (auto target : {"/api/v1/sync/products", "/api/v1/nope", "/api/v1/sync/check", "/api/v1/sync/tables"})
        batch += "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n";
    batch += "GET /api/v1/sync/categories HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + "\r\n";
    BOOST_TEST_REQUIRE(c.write(batch));
    BOOST_TEST(c.read_until_close());
    auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 5u, c.received());
    BOOST_TEST(responses[0].result_int() == 200u);
    BOOST_TEST(responses[1].result_int() == 404u);
    BOOST_TEST(responses[2].result_int() == 200u);
    BOOST_TEST(responses[3].result_int() == 400u); // tables need a store_id
    BOOST_TEST(json::parse(responses[4].body()).at("entity_type") == json::value("category"));
}

// A response larger than the socket buffers cannot leave at once: the rest
// is written as the client reads, and keep-alive goes on after it.
BOOST_AUTO_TEST_CASE(a_response_larger_than_the_socket_buffers_arrives_whole)
{
    seed(3000);
    raw_client c(port(), 4096);
    const std::string get = "GET /api/v1/sync/products?limit=10000 HTTP/1.1\r\nHost: x\r\n" + auth;
    // The second on the same connection: keep-alive went on after the first.
    BOOST_TEST_REQUIRE(c.write(get + "\r\n" + get + "Connection: close\r\n\r\n"));
    BOOST_TEST_REQUIRE(c.read_until_close());
    const auto responses = parse_responses(c.received());
    BOOST_TEST_REQUIRE(responses.size() == 2u);
    for (const auto& r : responses) {
        BOOST_TEST(r.result_int() == 200u);
        BOOST_TEST(r.body().size() > 500'000u);
        BOOST_TEST(json::parse(r.body()).at("changes").as_array().size() == 3000u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(idle_connection_suite)

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed_after_the_idle_timeout)
{
    server_fixture f([](auto& o) {
        o.idle_timeout = 200ms;
        o.header_timeout = 200ms;
    });
    raw_client idle(f.port());
    BOOST_TEST_REQUIRE(idle.connected());
    const auto t0 = steady::now();
    BOOST_TEST(idle.read_until_close(3s));
    BOOST_TEST((steady::now() - t0 >= 150ms));
    // One that sends half a request and stops is closed too (by the header
    // timeout; security.cpp tests it apart from this one).
    raw_client slow(f.port());
    BOOST_TEST_REQUIRE(slow.write("GET /api/v1/sync/products HTTP/1.1\r\nHo"));
    BOOST_TEST(slow.read_until_close(3s));
    BOOST_TEST(f.wait_for_stats([](const auto& s) { return s.http_connections == 0; }));
    // A long poll is not cut by the idle timeout: the server is waiting, not the client.
    auto c = f.http();
    auto r = c.get("/api/v1/sync/check?wait=1");
    BOOST_TEST(r.status == 200u, r.failure);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_connection_test
