// GET /metrics: an admin's Prometheus scrape of the server; the figures move
// as the requests, pulls and streams made here say they must.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <map>
#include <sstream>
#include <string>

namespace integration_metrics_test {

using namespace it;

/// A scrape: every sample line's series (name and labels as written) to its value.
using scrape = std::map<std::string, double>;

scrape read_metrics(http_client& c)
{
    const auto r = c.get("/metrics");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body());
    BOOST_TEST(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    scrape s;
    std::istringstream in(r.body());
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.starts_with('#')) continue;
        const auto space = line.rfind(' ');
        BOOST_TEST_REQUIRE(space != std::string::npos, line);
        s[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return s;
}

double at(const scrape& s, const std::string& series)
{
    const auto it = s.find(series);
    return it == s.end() ? 0 : it->second;
}

BOOST_FIXTURE_TEST_SUITE(metrics_suite, server_fixture)

BOOST_AUTO_TEST_CASE(only_an_admin_token_reads_the_metrics)
{
    auto c = http();
    const auto none = c.get("/metrics", "");
    BOOST_TEST(none.status == 401u);
    BOOST_TEST(none.error_code() == "unauthorized");
    const auto till = c.get("/metrics", till_1);
    BOOST_TEST(till.status == 403u);
    BOOST_TEST(till.error_code() == "forbidden");
    BOOST_TEST(c.get("/metrics").status == 200u);
}

BOOST_AUTO_TEST_CASE(only_get_reads_the_metrics)
{
    auto c = http();
    for (auto method : {http::verb::post, http::verb::put, http::verb::delete_}) {
        const auto r = c.send(method, "/metrics", "{}");
        BOOST_TEST(r.status == 405u);
        BOOST_TEST(r.error_code() == "method_not_allowed");
        BOOST_TEST(r.header("Allow") == "GET");
    }
}

BOOST_AUTO_TEST_CASE(gzipped_pulls_count_their_wire_bytes)
{
    auto c = http();
    for (int i = 0; i < 40; ++i)
        BOOST_TEST_REQUIRE(c.send(http::verb::post, "/api/v1/products",
                                  R"({"name":"Metrics gzip product )" + std::to_string(i) + R"("})")
                               .status == 201u);
    const auto before = read_metrics(c);
    const auto gz = c.get("/api/v1/sync/products?store_id=1", till_1, {{"Accept-Encoding", "gzip"}});
    BOOST_TEST_REQUIRE(gz.header("Content-Encoding") == "gzip");
    const auto after = read_metrics(c);
    auto moved = [&](const std::string& series) { return at(after, series) - at(before, series); };
    BOOST_TEST(moved(R"(incsync_pull_wire_bytes_total{entity_type="product"})") == static_cast<double>(gz.body().size()));
    BOOST_TEST(moved(R"(incsync_pull_bytes_total{entity_type="product"})") > 3.0 * static_cast<double>(gz.body().size()));
    BOOST_TEST(moved(R"(incsync_pulls_gzipped_total{entity_type="product"})") == 1);
}

BOOST_AUTO_TEST_CASE(pulls_requests_and_streams_move_their_figures)
{
    auto c = http();
    const auto before = read_metrics(c);

    BOOST_TEST_REQUIRE(c.send(http::verb::post, "/api/v1/products", R"({"name":"Tea","price_cents":120})").status == 201u);
    const auto pulled = c.get("/api/v1/sync/products?store_id=1", till_1);
    BOOST_TEST_REQUIRE(pulled.status == 200u);
    const auto records = pulled.json().at("changes").as_array().size();
    BOOST_TEST(c.get("/api/v1/sync/products?limit=0", till_1).status == 400u); // bad_limit
    BOOST_TEST(c.get("/api/v1/sync/check?store_id=1", till_1).status == 200u);
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());

    const auto after = read_metrics(c);
    auto moved = [&](const std::string& series) { return at(after, series) - at(before, series); };
    BOOST_TEST(moved(R"(incsync_pulls_total{entity_type="product",status="200"})") == 1);
    BOOST_TEST(moved(R"(incsync_pulls_total{entity_type="product",status="400"})") == 1);
    BOOST_TEST(moved(R"(incsync_pull_records_total{entity_type="product"})") == static_cast<double>(records));
    BOOST_TEST(moved(R"(incsync_pull_bytes_total{entity_type="product"})") == static_cast<double>(pulled.body().size()));
    BOOST_TEST(moved(R"(incsync_pull_records_total{entity_type="category"})") == 0);
    BOOST_TEST(moved(R"(incsync_http_requests_total{route="pull",status="200"})") == 1);
    BOOST_TEST(moved(R"(incsync_http_requests_total{route="pull",status="400"})") == 1);
    BOOST_TEST(moved(R"(incsync_http_requests_total{route="check",status="200"})") == 1);
    BOOST_TEST(moved(R"(incsync_http_requests_total{route="admin",status="201"})") == 1);
    BOOST_TEST(moved(R"(incsync_http_request_duration_seconds_count{route="pull"})") == 2);
    BOOST_TEST(moved(R"(incsync_http_request_duration_seconds_bucket{route="pull",le="+Inf"})") == 2);
    BOOST_TEST(at(after, R"(incsync_connections{transport="websocket"})") == 1);
    BOOST_TEST(at(after, R"(incsync_connections{transport="http"})") >= 1); // this client's
    // Read after the scrape before counted itself: four API requests, the
    // upgrade request and this scrape.
    BOOST_TEST(moved("incsync_requests_total") == 6);
    BOOST_TEST(moved("incsync_connections_accepted_total") == 1); // the WebSocket's
}

BOOST_AUTO_TEST_CASE(streams_are_counted_per_store_while_open)
{
    auto c = http();
    const auto series = [](std::string_view store) {
        return R"(incsync_store_streams{store=")" + std::string(store) + R"(",transport="websocket"})";
    };
    {
        ws_client one(port(), "/ws/sync/1?store_id=1&token=till-1");
        ws_client two(port(), "/ws/sync/2?store_id=2&token=till-2");
        ws_client all(port(), "/ws/sync/3?token=admin-token");
        BOOST_TEST_REQUIRE((one.is_open() && two.is_open() && all.is_open()));
        const auto s = read_metrics(c);
        BOOST_TEST(at(s, series("1")) == 1);
        BOOST_TEST(at(s, series("2")) == 1);
        BOOST_TEST(at(s, series("all")) == 1);
        BOOST_TEST(at(s, R"(incsync_store_streams{store="1",transport="sse"})") == 0);
    }
    // Closed by the clients: the server sees it shortly after.
    BOOST_TEST(wait_until([&] {
        const auto s = read_metrics(c);
        return at(s, series("1")) == 0 && at(s, series("2")) == 0 && at(s, series("all")) == 0;
    }));
}

BOOST_AUTO_TEST_CASE(a_notified_commit_moves_the_latency_histogram_and_the_log)
{
    auto c = http();
    ws_client ws(port(), "/ws/sync/1?store_id=1&token=till-1");
    BOOST_TEST_REQUIRE(ws.is_open());
    const auto before = read_metrics(c);
    BOOST_TEST_REQUIRE(c.send(http::verb::post, "/api/v1/products", R"({"name":"Latency"})").status == 201u);
    BOOST_TEST_REQUIRE(ws.next().has_value());
    // Observed just after the write returns, which may be after the frame arrived.
    scrape after;
    auto moved = [&](const std::string& series) { return at(after, series) - at(before, series); };
    BOOST_TEST(wait_until([&] {
        after = read_metrics(c);
        return moved("incsync_notify_latency_seconds_count") == 1;
    }));
    BOOST_TEST(moved(R"(incsync_notify_latency_seconds_bucket{le="+Inf"})") == 1);
    BOOST_TEST(at(after, R"(incsync_notify_latency_seconds_bucket{le="10"})") == at(after, "incsync_notify_latency_seconds_count"));
    BOOST_TEST(moved("incsync_change_log_entries") == 1);
    BOOST_TEST(moved("incsync_change_log_high_water") == 1);
    // The purge cutoff (now - retention, from the store's periodic purge) is in the past.
    BOOST_TEST(at(after, "incsync_change_log_horizon_timestamp_seconds") < static_cast<double>(std::time(nullptr)));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_metrics_test
