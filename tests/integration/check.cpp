// `check` and its long-polling form (PROTOCOL.md section 2).
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <future>

namespace integration_check_test {

using namespace it;

std::vector<std::string> changed(const http_reply& r)
{
    std::vector<std::string> out;
    const auto v = r.json();
    if (!v.is_object() || !v.as_object().contains("changed")) return out;
    for (const auto& t : v.at("changed").as_array()) out.emplace_back(t.as_string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string next_since(const http_reply& r) { return std::string(r.json().at("next_since").as_string()); }

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

BOOST_FIXTURE_TEST_SUITE(check_suite, server_fixture)

BOOST_AUTO_TEST_CASE(check_lists_the_types_changed_since_its_cursor)
{
    auto c = http();
    auto empty = c.get("/api/v1/sync/check?store_id=1");
    BOOST_TEST_REQUIRE(empty.status == 200u, empty.body());
    BOOST_TEST(keys(empty.json()) == (std::set<std::string>{"changed", "next_since", "server_time"}),
               boost::test_tools::per_element());
    BOOST_TEST(changed(empty).empty());
    BOOST_TEST(is_wire_timestamp(empty.json().at("server_time")));

    (void)create(c, "products", R"({"name":"Espresso"})");
    (void)create(c, "tables", R"({"name":"T1","store_id":1})");
    auto both = c.get("/api/v1/sync/check?store_id=1&since=" + next_since(empty));
    BOOST_TEST(changed(both) == (std::vector<std::string>{"product", "table"}), boost::test_tools::per_element());

    (void)create(c, "categories", R"({"name":"Cakes"})");
    auto one = c.get("/api/v1/sync/check?store_id=1&since=" + next_since(both));
    BOOST_TEST(changed(one) == std::vector<std::string>{"category"}, boost::test_tools::per_element());
    BOOST_TEST(changed(c.get("/api/v1/sync/check?store_id=1&since=" + next_since(one))).empty());

    // Store walls: a store-2 register does not hear of store 1's tables.
    auto s2 = c.get("/api/v1/sync/check?store_id=2", till_2);
    BOOST_TEST_REQUIRE(s2.status == 200u, s2.body());
    (void)create(c, "tables", R"({"name":"T2","store_id":1})");
    BOOST_TEST(changed(c.get("/api/v1/sync/check?store_id=2&since=" + next_since(s2), till_2)).empty());
    auto s1 = c.get("/api/v1/sync/check?store_id=1&since=" + next_since(one), till_1);
    BOOST_TEST(changed(s1) == std::vector<std::string>{"table"}, boost::test_tools::per_element());
    // A timestamp works as well.
    auto by_time = c.get("/api/v1/sync/check?store_id=1&since=" + std::string(one.json().at("server_time").as_string()));
    BOOST_TEST(changed(by_time) == std::vector<std::string>{"table"}, boost::test_tools::per_element());
    // A check cursor is bound to its store, and is for check only.
    BOOST_TEST(c.get("/api/v1/sync/check?store_id=1&since=" + next_since(s2)).is_error("bad_request"));
    BOOST_TEST(c.get("/api/v1/sync/products?since=" + next_since(s2)).is_error("bad_request"));
    BOOST_TEST(c.get("/api/v1/sync/check?since=garbage").is_error("bad_request"));
}

BOOST_AUTO_TEST_CASE(long_poll_is_answered_as_soon_as_an_admin_write_commits)
{
    auto c = http();
    const auto since = next_since(c.get("/api/v1/sync/check"));
    auto poll = std::async(std::launch::async, [port = port(), since] {
        http_client waiter(port);
        return waiter.get("/api/v1/sync/check?wait=5&since=" + since);
    });
    BOOST_TEST_REQUIRE(wait_for_stats([](const auto& s) { return s.long_polls == 1; }), "the poll never started waiting");
    BOOST_TEST((poll.wait_for(0s) == std::future_status::timeout)); // held open
    const auto t0 = steady::now();
    (void)create(c, "products", R"({"name":"Flat white"})");
    BOOST_TEST_REQUIRE((poll.wait_for(6s) == std::future_status::ready));
    const double elapsed = seconds_since(t0);
    auto r = poll.get();
    BOOST_TEST(r.status == 200u, r.failure << r.body());
    BOOST_TEST(elapsed < 1.0, "answered " << elapsed << " s after the write");
    BOOST_TEST(changed(r) == std::vector<std::string>{"product"}, boost::test_tools::per_element());
    BOOST_TEST(wait_for_stats([](const auto& s) { return s.long_polls == 0; }));
}

BOOST_AUTO_TEST_CASE(long_poll_of_a_store_wakes_for_its_store_and_global_writes_only)
{
    auto c = http();
    const auto since = next_since(c.get("/api/v1/sync/check?store_id=2", till_2));
    auto poll = std::async(std::launch::async, [port = port(), since] {
        http_client waiter(port);
        return waiter.get("/api/v1/sync/check?store_id=2&wait=5&since=" + since, till_2);
    });
    BOOST_TEST_REQUIRE(wait_for_stats([](const auto& s) { return s.long_polls == 1; }));
    (void)create(c, "tables", R"({"name":"T1","store_id":1})"); // another store's: keeps waiting
    BOOST_TEST((poll.wait_for(300ms) == std::future_status::timeout));
    const auto t0 = steady::now();
    (void)create(c, "tables", R"({"name":"T9","store_id":2})");
    BOOST_TEST_REQUIRE((poll.wait_for(6s) == std::future_status::ready));
    BOOST_TEST(seconds_since(t0) < 1.0);
    auto r = poll.get();
    BOOST_TEST(changed(r) == std::vector<std::string>{"table"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(long_poll_without_a_change_answers_an_empty_list_after_the_wait)
{
    auto c = http();
    const auto since = next_since(c.get("/api/v1/sync/check"));
    const auto t0 = steady::now();
    auto r = c.get("/api/v1/sync/check?wait=1&since=" + since);
    const double elapsed = seconds_since(t0);
    BOOST_TEST_REQUIRE(r.status == 200u, r.failure << r.body());
    BOOST_TEST(changed(r).empty());
    BOOST_TEST(r.json().at("changed").as_array().empty());
    BOOST_TEST(elapsed >= 0.95, elapsed);
    BOOST_TEST(elapsed < 2.5, elapsed);
    BOOST_TEST(stats().long_polls == 0u);
    // The connection stays usable after a long poll.
    BOOST_TEST(c.get("/api/v1/sync/check?since=" + since).status == 200u);
    // Something already changed: no wait at all.
    (void)create(c, "products", R"({"name":"Tea"})");
    const auto t1 = steady::now();
    auto at_once = c.get("/api/v1/sync/check?wait=5&since=" + since);
    BOOST_TEST(seconds_since(t1) < 1.0);
    BOOST_TEST(changed(at_once) == std::vector<std::string>{"product"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(waits_outside_zero_to_sixty_seconds_are_bad_requests)
{
    auto c = http();
    for (std::string wait : {"61", "-1", "abc", "3600", "99999999999999999999"}) {
        auto r = c.get("/api/v1/sync/check?wait=" + wait);
        BOOST_TEST(r.status == 400u, wait);
        BOOST_TEST(r.is_error("bad_request"), r.body());
    }
    BOOST_TEST(c.get("/api/v1/sync/check?wait=0").status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_check_test
