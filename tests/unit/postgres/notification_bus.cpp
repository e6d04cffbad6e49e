#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/postgres/notification_bus.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "../../support/bus_recorder.hpp"
#include "../../support/postgres_server.hpp"
#include "../wait.hpp"

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace unit_postgres_notification_bus_test {

using namespace incsync;
using testwait::wait_until;
using namespace std::chrono_literals;

using test_support::recorder;

/// An io_context on its own thread, for buses.
struct runner {
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
    ~runner()
    {
        work.reset();
        if (thread.joinable()) thread.join();
    }
};

notification_ptr change_of(std::int64_t id, std::optional<std::int64_t> store = std::nullopt)
{
    change c{static_cast<version_t>(id), "product", id, store, change_type::update, {}, timestamp{1'700'000'000'000'000 + id}};
    return wire::make_notification(c);
}

postgres::bus_options options_for(const test_support::postgres_server& pg)
{
    return {.conninfo = pg.conninfo(), .channel = "unit_bus", .reconnect_initial = 20ms, .reconnect_max = 200ms,
            .heartbeat = 1000ms, .log = {}};
}

BOOST_AUTO_TEST_SUITE(postgres_notification_bus_suite)

BOOST_AUTO_TEST_CASE(a_notification_reaches_the_other_instance_as_published_and_not_its_own)
{
    auto& pg = test_support::postgres_server::shared();
    runner r;
    recorder got_a, got_b;
    {
        postgres::notification_bus a(r.ioc.get_executor(), options_for(pg));
        postgres::notification_bus b(r.ioc.get_executor(), options_for(pg));
        a.start(got_a);
        b.start(got_b);
        BOOST_REQUIRE(wait_until([&] { return a.stats().connected && b.stats().connected; }, 10s));

        const auto sent = change_of(7, 3);
        a.publish(sent);
        a.publish(change_of(8));
        BOOST_REQUIRE(wait_until([&] { return got_b.got().size() == 2; }));
        const auto first = got_b.got()[0];
        BOOST_TEST(first->body == sent->body);
        BOOST_TEST((first->store_id == std::optional<std::int64_t>(3)));
        BOOST_TEST(first->version == sent->version);
        BOOST_TEST(first->committed_at == sent->committed_at);
        BOOST_TEST(!got_b.got()[1]->store_id.has_value());

        // b's answer reaches a; a's own two never came back to it.
        b.publish(change_of(9));
        BOOST_REQUIRE(wait_until([&] { return got_a.got().size() == 1; }));
        BOOST_TEST(got_a.got()[0]->version == 9u);
        BOOST_TEST(got_b.got().size() == 2u);
        BOOST_TEST(a.stats().published == 2u);
        BOOST_TEST(b.stats().received == 2u);
        BOOST_TEST(got_a.gaps() == 0u);
        BOOST_TEST(got_b.gaps() == 0u);
        a.stop();
        b.stop();
    }
}

BOOST_AUTO_TEST_CASE(other_programs_messages_on_the_channel_are_ignored)
{
    auto& pg = test_support::postgres_server::shared();
    runner r;
    recorder got;
    postgres::notification_bus bus(r.ioc.get_executor(), options_for(pg));
    bus.start(got);
    BOOST_REQUIRE(wait_until([&] { return bus.stats().connected; }, 10s));
    BOOST_REQUIRE(pg.psql("NOTIFY unit_bus, 'hello'; NOTIFY unit_bus, 'incsync1 x 1 2'; "
                          "NOTIFY unit_bus, 'incsync1 other - 5 6\n\"type\":\"entity_updated\"}'") == 0);
    // The last one is well formed: it arrives, the two before it do not.
    BOOST_REQUIRE(wait_until([&] { return got.got().size() == 1; }));
    BOOST_TEST(got.got()[0]->version == 5u);
    BOOST_TEST(got.gaps() == 0u);
    bus.stop();
}

BOOST_AUTO_TEST_CASE(a_restarted_server_means_a_gap_on_every_instance_and_drops_while_down)
{
    test_support::postgres_server pg; // its own: restarting the shared one would cut other suites' connections
    runner r;
    recorder got_a, got_b;
    postgres::notification_bus a(r.ioc.get_executor(), options_for(pg));
    postgres::notification_bus b(r.ioc.get_executor(), options_for(pg));
    a.start(got_a);
    b.start(got_b);
    BOOST_REQUIRE(wait_until([&] { return a.stats().connected && b.stats().connected; }, 10s));

    pg.stop();
    BOOST_REQUIRE(wait_until([&] { return !a.stats().connected && !b.stats().connected; }, 10s));
    a.publish(change_of(1)); // lost while down: counted, and a catch_up is owed
    BOOST_REQUIRE(wait_until([&] { return a.stats().dropped == 1; }));
    pg.start();
    BOOST_REQUIRE(wait_until([&] { return a.stats().connected && b.stats().connected; }, 15s));

    // Each tells its own clients to catch up. (Whether each also hears the
    // other's catch_up depends on who listened first; either way every
    // client of both catches up.)
    BOOST_REQUIRE(wait_until([&] { return got_a.gaps() >= 1u && got_b.gaps() >= 1u; }));
    BOOST_TEST(a.stats().reconnects == 1u);
    BOOST_TEST(b.stats().reconnects == 1u);
    BOOST_TEST(got_b.got().empty());

    // And the link works again.
    a.publish(change_of(2));
    BOOST_REQUIRE(wait_until([&] { return got_b.got().size() == 1; }));
    BOOST_TEST(got_b.got()[0]->version == 2u);
    a.stop();
    b.stop();
}

BOOST_AUTO_TEST_CASE(an_instance_that_lost_its_link_alone_makes_the_others_catch_up)
{
    auto& pg = test_support::postgres_server::shared();
    runner r;
    recorder got_a, got_b;
    auto options_a = options_for(pg);
    options_a.conninfo += " application_name=incsync_unit_bus_a";
    postgres::notification_bus a(r.ioc.get_executor(), options_a);
    postgres::notification_bus b(r.ioc.get_executor(), options_for(pg));
    a.start(got_a);
    b.start(got_b);
    BOOST_REQUIRE(wait_until([&] { return a.stats().connected && b.stats().connected; }, 10s));

    // Only a's connection is cut: what a published just before may be lost,
    // and b, which never noticed anything, must be told.
    BOOST_REQUIRE(pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = 'incsync_unit_bus_a'") == 0);
    BOOST_REQUIRE(wait_until([&] { return a.stats().reconnects == 1 && a.stats().connected; }, 10s));
    BOOST_REQUIRE(wait_until([&] { return got_b.gaps() == 1u; }));
    BOOST_TEST(got_a.gaps() == 1u);
    BOOST_TEST(b.stats().reconnects == 0u);
    BOOST_TEST(got_a.got().empty()); // b published nothing
    a.stop();
    b.stop();
}

BOOST_AUTO_TEST_CASE(stop_lets_the_io_context_run_out_even_while_reconnecting)
{
    boost::asio::io_context ioc;
    recorder got;
    // Nothing listens there: the bus keeps retrying until stopped.
    postgres::notification_bus bus(ioc.get_executor(),
                                   {.conninfo = "host=127.0.0.1 port=" + std::to_string(test_support::free_loopback_port())
                                              + " user=x dbname=x connect_timeout=2",
                                    .reconnect_initial = 5ms, .reconnect_max = 10ms, .log = {}});
    bus.start(got);
    ioc.run_for(100ms);
    BOOST_TEST(!bus.stats().connected);
    bus.stop();
    ioc.restart();
    const auto started = std::chrono::steady_clock::now();
    ioc.run(); // returns: nothing is left pending
    BOOST_TEST((std::chrono::steady_clock::now() - started < 3s));
    BOOST_TEST(bus.stats().published == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_postgres_notification_bus_test
