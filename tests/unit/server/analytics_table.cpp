#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/server/analytics_table.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace unit_server_analytics_table_test {

using namespace incsync;

wire::analytics_report report(std::optional<std::int64_t> store, std::int64_t id, std::uint64_t pulls = 1)
{
    wire::analytics_report r;
    r.cash_register_id = id;
    r.store_id = store;
    r.online = true;
    r.reconnects = 2;
    r.offline_seconds = 1.5;
    r.last_sync_age_seconds = 3;
    wire::type_report t;
    t.entity_type = "product";
    t.pulls = pulls;
    t.failures = 1;
    t.bytes = 1000;
    t.pending = true;
    r.types.push_back(t);
    t.entity_type = "category";
    t.pending = false;
    r.types.push_back(t);
    return r;
}

BOOST_AUTO_TEST_SUITE(analytics_table_suite)

BOOST_AUTO_TEST_CASE(a_register_keeps_its_latest_report_only)
{
    server::analytics_table table;
    table.put(report(1, 7, 1), timestamp{1'000'000});
    table.put(report(1, 7, 5), timestamp{2'000'000});
    table.put(report(2, 7, 1), timestamp{2'000'000}); // same id, another store: another register
    BOOST_TEST(table.size() == 2u);
    const auto all = boost::json::parse(table.to_json(timestamp{4'000'000})).as_array();
    BOOST_TEST_REQUIRE(all.size() == 2u);
    BOOST_TEST(all[0].at("store_id").as_int64() == 1);
    BOOST_TEST(all[0].at("types").at(0).at("pulls").as_int64() == 5);
    BOOST_TEST(all[0].at("report_age_seconds").as_double() == 2.0);
    BOOST_TEST(all[0].at("received_at").as_string() == "1970-01-01T00:00:02.000000Z");
}

BOOST_AUTO_TEST_CASE(a_full_table_drops_the_register_that_reported_least_recently)
{
    server::analytics_table table(2);
    table.put(report(1, 1), timestamp{3'000'000});
    table.put(report(1, 2), timestamp{1'000'000});
    table.put(report(1, 1), timestamp{4'000'000}); // an update makes no room
    BOOST_TEST(table.size() == 2u);
    table.put(report(1, 3), timestamp{5'000'000});
    BOOST_TEST(table.size() == 2u);
    const auto json = table.to_json(timestamp{5'000'000});
    BOOST_TEST(json.find(R"("cash_register_id":2)") == std::string::npos, json);
    BOOST_TEST(json.find(R"("cash_register_id":3)") != std::string::npos, json);
}

BOOST_AUTO_TEST_CASE(the_scrape_has_one_series_per_register)
{
    server::analytics_table table;
    table.put(report(1, 7, 4), timestamp{10'000'000});
    metrics::exposition e;
    table.write(e, timestamp{12'500'000});
    const auto text = std::move(e).take();
    const std::string labels = R"({store="1",cash_register="7"})";
    BOOST_TEST(text.find("incsync_register_report_age_seconds" + labels + " 2.5\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_last_sync_age_seconds" + labels + " 5.5\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_pending_types" + labels + " 1\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_pulls_total" + labels + " 8\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_pull_failures_total" + labels + " 2\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_pull_bytes_total" + labels + " 2000\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_reconnects_total" + labels + " 2\n") != std::string::npos, text);
    BOOST_TEST(text.find("incsync_register_online" + labels + " 1\n") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_server_analytics_table_test
