// Registers' analytics (POST /api/v1/sync/analytics): what a register may
// report, what an admin reads back, and the per-register series of /metrics;
// and a real register (sync_client over the network) reporting on its own,
// its catch-up gzipped.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"
#include "registers.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace integration_analytics_test {

using namespace it;

const std::string path = "/api/v1/sync/analytics";

BOOST_FIXTURE_TEST_SUITE(analytics_suite, server_fixture)

BOOST_AUTO_TEST_CASE(a_register_reports_for_its_own_store_and_an_admin_reads_every_report)
{
    auto c = http();
    // The body's store_id may be left out: the token says which store.
    auto posted = c.send(http::verb::post, path, R"({"cash_register_id":7,"reconnects":2,"online":true})", till_1);
    BOOST_TEST_REQUIRE(posted.status == 204u, posted.body());
    BOOST_TEST(c.send(http::verb::post, path, R"({"cash_register_id":8,"store_id":2})", till_2).status == 204u);

    const auto read = c.get(path);
    BOOST_TEST_REQUIRE(read.status == 200u);
    const auto all = read.json().as_array();
    BOOST_TEST_REQUIRE(all.size() == 2u);
    BOOST_TEST(all[0].at("store_id").as_int64() == 1);
    BOOST_TEST(all[0].at("cash_register_id").as_int64() == 7);
    BOOST_TEST(all[0].at("reconnects").as_int64() == 2);
    BOOST_TEST(all[0].as_object().contains("received_at"));
    BOOST_TEST(all[1].at("store_id").as_int64() == 2);

    const auto scrape = c.get("/metrics").body();
    BOOST_TEST(scrape.find(R"(incsync_register_reconnects_total{store="1",cash_register="7"} 2)") != std::string::npos);
    BOOST_TEST(scrape.find(R"(incsync_register_online{store="1",cash_register="7"} 1)") != std::string::npos);
    BOOST_TEST(scrape.find(R"(incsync_http_requests_total{route="analytics",status="204"} 2)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_reports_get_the_protocol_errors_and_are_not_kept)
{
    auto c = http();
    auto expect = [&](const http_reply& r, unsigned status, std::string_view code) {
        BOOST_TEST(r.status == status, r.body());
        BOOST_TEST(r.error_code() == code);
    };
    expect(c.send(http::verb::post, path, R"({"cash_register_id":7})", ""), 401, "unauthorized");
    expect(c.send(http::verb::post, path, R"({"cash_register_id":7,"store_id":2})", till_1), 403, "forbidden");
    expect(c.send(http::verb::post, path, "{", till_1), 400, "bad_request");
    expect(c.send(http::verb::post, path, R"({"reconnects":1})", till_1), 400, "bad_request");
    expect(c.send(http::verb::post, path, R"({"cash_register_id":7,"offline_seconds":"long"})", till_1), 400,
           "bad_request");
    expect(c.send(http::verb::post, path, R"({"cash_register_id":7,"pad":")" + std::string(20000, 'x') + "\"}", till_1),
           413, "payload_too_large");
    expect(c.get(path, till_1), 403, "forbidden"); // reading them is the console's
    const auto put = c.send(http::verb::put, path, "{}", till_1);
    expect(put, 405, "method_not_allowed");
    BOOST_TEST(put.header("Allow") == "GET, POST");
    BOOST_TEST(c.get(path).json().as_array().empty());
}

BOOST_AUTO_TEST_CASE(a_register_reports_its_analytics_and_catches_up_gzipped)
{
    auto c = http();
    for (int i = 0; i < 60; ++i)
        BOOST_TEST_REQUIRE(c.send(http::verb::post, "/api/v1/products",
                                  R"({"name":"Analytics product )" + std::to_string(i) + R"(","price_cents":250})")
                               .status == 201u);
    register_client reg(port(), "till-1", 1, 42, [](incsync::client::client_options& o) {
        o.analytics_interval = std::chrono::milliseconds(50);
    });
    BOOST_TEST_REQUIRE(wait_until([&] {
        const auto all = c.get(path).json().as_array();
        for (const auto& r : all)
            if (r.at("cash_register_id").as_int64() == 42) {
                const auto& types = r.at("types").as_array();
                for (const auto& t : types)
                    if (t.at("entity_type").as_string() == "product" && t.at("records").as_int64() >= 60) return true;
            }
        return false;
    }));
    // The product catch-up came gzipped, and the register counted the
    // compressed bytes: fewer than the records' JSON.
    const auto st = reg.status();
    const auto* products = st.type("product");
    BOOST_TEST_REQUIRE(products != nullptr);
    BOOST_TEST(products->records >= 60u);
    BOOST_TEST(products->bytes > 0u);
    BOOST_TEST(products->bytes < 60u * 100u);
    const auto scrape = c.get("/metrics").body();
    BOOST_TEST(scrape.find(R"(incsync_pulls_gzipped_total{entity_type="product"} 0)") == std::string::npos);
    BOOST_TEST(scrape.find(R"(incsync_register_pulls_total{store="1",cash_register="42"})") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_analytics_test
