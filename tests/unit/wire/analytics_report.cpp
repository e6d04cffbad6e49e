#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/wire/analytics_report.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace unit_wire_analytics_report_test {

using namespace incsync;
using wire::parse_analytics_report;

wire::analytics_report sample()
{
    wire::analytics_report r;
    r.cash_register_id = 7;
    r.store_id = 2;
    r.online = true;
    r.realtime = "websocket";
    r.reconnects = 3;
    r.offline_seconds = 12.5;
    r.notifications = 40;
    r.last_sync_age_seconds = 1.25;
    wire::type_report t;
    t.entity_type = "product";
    t.version = 4711;
    t.pending = true;
    t.pulls = 9;
    t.failures = 1;
    t.records = 100;
    t.bytes = 23456;
    t.last_pull = wire::last_pull_report{0.5, 10, 2345, "server_error"};
    r.types.push_back(t);
    t.entity_type = "category";
    t.last_pull.reset();
    r.types.push_back(t);
    return r;
}

// The message of a parse's error ("" when it parsed).
std::string error_of(const std::string& json)
{
    auto r = parse_analytics_report(json);
    return r ? std::string() : r.error().message();
}

BOOST_AUTO_TEST_SUITE(analytics_report_suite)

BOOST_AUTO_TEST_CASE(a_report_survives_the_round_trip)
{
    const auto r = sample();
    auto back = parse_analytics_report(wire::to_json(r));
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST((*back == r));
}

BOOST_AUTO_TEST_CASE(only_the_register_id_is_required_and_unknown_members_are_ignored)
{
    auto r = parse_analytics_report(R"({"cash_register_id":5,"from_the_future":{"x":[1,2]}})");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->cash_register_id == 5);
    BOOST_TEST(!r->store_id.has_value());
    BOOST_TEST(r->types.empty());
    BOOST_TEST(r->realtime == "none");
    BOOST_TEST(!parse_analytics_report(R"({"cash_register_id":5,"store_id":null})")->store_id.has_value());
}

BOOST_AUTO_TEST_CASE(bad_reports_are_refused_naming_the_member)
{
    BOOST_TEST(error_of("{") != "");
    BOOST_TEST(error_of("[]") != "");
    BOOST_TEST(error_of("{}").find("cash_register_id is required") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":"7"})").find("cash_register_id") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1.5})").find("cash_register_id") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"reconnects":-1})").find("reconnects") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"offline_seconds":-0.5})").find("offline_seconds") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"online":1})").find("online") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"realtime":"web socket"})").find("realtime") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"types":{}})").find("types must be an array") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"types":[3]})").find("types[0]") != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"types":[{"version":1}]})").find("types[0].entity_type is required")
               != std::string::npos);
    BOOST_TEST(error_of(R"({"cash_register_id":1,"types":[{"entity_type":"p","last_pull":{"seconds":"x"}}]})")
                   .find("types[0].last_pull.seconds")
               != std::string::npos);
    const std::string long_name(65, 'a');
    BOOST_TEST(error_of(R"({"cash_register_id":1,"types":[{"entity_type":")" + long_name + R"("}]})") != "");
    std::string many = R"({"cash_register_id":1,"types":[)";
    for (int i = 0; i < 65; ++i) many += std::string(i ? "," : "") + R"({"entity_type":"t"})";
    BOOST_TEST(error_of(many + "]}").find("more than 64") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_wire_analytics_report_test
