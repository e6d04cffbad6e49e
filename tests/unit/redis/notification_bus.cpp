// The Redis Pub/Sub bus against a real redis-server on 127.0.0.1: delivery
// between two instances, echoes and foreign messages ignored, drops and
// gaps across a cut link and a restarted server, the attempt deadline, and a
// stop that lets the io_context run out of work. Some instances reach Redis
// through a tcp_proxy, so that one can be cut off (or held off) alone.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/redis/notification_bus.hpp>

#include <incsync/testing/tcp_proxy.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "../../support/bus_recorder.hpp"
#include "../../support/redis_server.hpp"
#include "../wait.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace redis_notification_bus_test {

using namespace incsync;
using namespace std::chrono_literals;
using testwait::wait_until;

constexpr auto reconnect_deadline = std::chrono::milliseconds(10000);

using test_support::recorder;

/// The bus's log lines, read from the test's thread.
class logbook {
public:
    void add(std::string_view line)
    {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(line);
    }
    std::size_t count(std::string_view needle) const
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

notification_ptr note(std::optional<std::int64_t> store, version_t v)
{
    const change c{v, "product", 40 + static_cast<std::int64_t>(v), store, change_type::update, {},
                   timestamp{1'700'000'000'000'000 + static_cast<std::int64_t>(v)}};
    return wire::make_notification(c);
}

/// One server instance's side of the bus: its listener, log and bus.
struct instance {
    recorder listener;
    logbook log;
    redis::notification_bus bus;

    instance(boost::asio::io_context& ioc, std::uint16_t port, std::chrono::milliseconds connect_timeout = 2000ms)
        : bus(ioc.get_executor(), redis::bus_options{.host = "127.0.0.1",
                                                     .port = port,
                                                     .channel = "incsync-test",
                                                     .reconnect_initial = 20ms,
                                                     .reconnect_max = 200ms,
                                                     .connect_timeout = connect_timeout,
                                                     .log = [this](std::string_view l) { log.add(l); }})
    {
        bus.start(listener);
    }

    bool connected() const { return bus.stats().connected; }
};

/// The io_context, run by `threads` threads once the buses are started
/// (two: the bus's strand must serialize its handlers by itself).
class io_thread {
public:
    boost::asio::io_context ioc;

    void run(int threads = 1)
    {
        for (int i = 0; i < threads; ++i)
            threads_.emplace_back([this] {
                ioc.run();
                ++returned_;
            });
    }
    /// Stops `buses` and waits (bounded) until run() returns for lack of work.
    bool stop_and_wait(std::initializer_list<redis::notification_bus*> buses)
    {
        for (auto* b : buses) b->stop();
        return wait_until([this] { return all_returned(); }, 5000ms);
    }
    ~io_thread()
    {
        if (!wait_until([this] { return all_returned(); }, 5000ms)) ioc.stop();
        for (auto& t : threads_) t.join();
    }

private:
    bool all_returned() const { return returned_.load() == threads_.size(); }

    std::vector<std::thread> threads_;
    std::atomic<std::size_t> returned_{0};
};

/// Publishes `n` from `from` and waits until `to` has it: everything `from`
/// published before has then been delivered to `to` (or missed for good).
bool barrier(instance& from, instance& to, const notification_ptr& n)
{
    from.bus.publish(n);
    return wait_until([&] { return to.listener.has_version(n->version); });
}

BOOST_AUTO_TEST_SUITE(redis_notification_bus_suite)

BOOST_AUTO_TEST_CASE(parse_redis_url_reads_host_port_and_database)
{
    const auto full = redis::parse_redis_url("redis://cache.internal:6380/2");
    BOOST_TEST_REQUIRE(full.has_value());
    BOOST_TEST(full->host == "cache.internal");
    BOOST_TEST(full->port == 6380);
    BOOST_TEST(full->db == 2);
    const auto bare = redis::parse_redis_url("redis://127.0.0.1");
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST(bare->host == "127.0.0.1");
    BOOST_TEST(bare->port == 6379);
    BOOST_TEST(bare->db == 0);
    const auto v6 = redis::parse_redis_url("redis://[::1]:7000/");
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->host == "::1");
    BOOST_TEST(v6->port == 7000);
}

BOOST_AUTO_TEST_CASE(parse_redis_url_refuses_what_it_cannot_honour_and_says_why)
{
    const std::pair<const char*, const char*> cases[] = {
        {"http://127.0.0.1:6379", "expected redis://host:port[/db]"},
        {"rediss://127.0.0.1:6379", "TLS"},
        {"redis://user:secret@127.0.0.1:6379", "credentials"},
        {"redis://127.0.0.1:0", "port"},
        {"redis://127.0.0.1:65536", "port"},
        {"redis://127.0.0.1:63x9", "port"},
        {"redis://127.0.0.1:", "empty port"},
        {"redis://:6379", "no host"},
        {"redis://127.0.0.1:6379/one", "database"},
        {"redis://127.0.0.1:6379/0?timeout=1", "query"},
        {"redis://[::1", "unclosed"},
    };
    for (const auto& [url, why] : cases) {
        const auto r = redis::parse_redis_url(url);
        BOOST_TEST_CONTEXT(url)
        {
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST((r.error().code == boost::system::errc::invalid_argument));
            BOOST_TEST(r.error().message().find(why) != std::string::npos, r.error().message());
            BOOST_TEST(r.error().message().find(url) != std::string::npos, r.error().message());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_notification_reaches_the_other_instance_intact_and_not_its_sender)
{
    test_support::redis_server srv;
    io_thread io;
    instance a(io.ioc, srv.port()), b(io.ioc, srv.port());
    io.run();
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected() && b.connected(); }));

    const auto sent = note(7, 42);
    a.bus.publish(sent);
    BOOST_TEST_REQUIRE(wait_until([&] { return b.listener.count() == 1; }));
    const auto got = b.listener.got().front();
    BOOST_TEST(got->body == sent->body);
    BOOST_TEST((got->store_id == std::optional<std::int64_t>(7)));
    BOOST_TEST(got->version == 42);
    BOOST_TEST(got->committed_at.micros == sent->committed_at.micros);

    const auto global = note(std::nullopt, 43); // store "-" on the wire
    a.bus.publish(global);
    BOOST_TEST_REQUIRE(wait_until([&] { return b.listener.count() == 2; }));
    BOOST_TEST(!b.listener.got().back()->store_id.has_value());
    BOOST_TEST(b.listener.got().back()->body == global->body);

    // B's reply reaches A after A's own echoes, which A skipped.
    BOOST_TEST_REQUIRE(barrier(b, a, note(3, 44)));
    const auto a_got = a.listener.got();
    BOOST_TEST_REQUIRE(a_got.size() == 1u);
    BOOST_TEST(a_got[0]->version == 44);

    const auto sa = a.bus.stats(), sb = b.bus.stats();
    BOOST_TEST(sa.published == 2u);
    BOOST_TEST(sa.received == 1u);
    BOOST_TEST(sb.published == 1u);
    BOOST_TEST(sb.received == 2u);
    // A first connection is no gap and owes no catch_up.
    BOOST_TEST(sa.gaps == 0u);
    BOOST_TEST(sb.gaps == 0u);
    BOOST_TEST(a.listener.gaps() == 0u);
    BOOST_TEST(sa.dropped + sb.dropped + sa.reconnects + sb.reconnects == 0u);
    BOOST_TEST(io.stop_and_wait({&a.bus, &b.bus}));
}

BOOST_AUTO_TEST_CASE(malformed_messages_on_the_channel_are_ignored)
{
    test_support::redis_server srv;
    io_thread io;
    instance a(io.ioc, srv.port()), b(io.ioc, srv.port());
    io.run();
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected() && b.connected(); }));

    const std::string junk[] = {
        "",
        "hello",
        "incsync1",
        "incsync1 ",
        "incsync1 other",
        "incsync1 other 1 2 3",               // no body
        "incsync1 other 1 2 3\n",             // empty body
        "incsync1 other x 2 3\n{}",           // store not a number
        "incsync1 other - 2 3\n{\"type\":",   // body cut short
        "incsync1 other - 99999999999999999999 3\n{}", // version out of range
        "incsync2 other - 2 3\n{}",           // another format
        "incsync1 " + std::string(65, 'o') + " - 2 3\n{}", // origin too long
        std::string("\0\xff\x01incsync1", 11),
    };
    for (const auto& m : junk) // ":2": both buses' subscriptions got it
        BOOST_TEST(srv.command({"PUBLISH", "incsync-test", m}) == ":2", m);
    // Another program's channel is not ours at all.
    BOOST_TEST(srv.command({"PUBLISH", "elsewhere", bus_message::encode("other", *note(1, 9))}) == ":0");

    // A well-formed message from a third instance, after the junk, arrives alone.
    const auto sentinel = note(1, 77);
    BOOST_TEST(srv.command({"PUBLISH", "incsync-test", bus_message::encode("third", *sentinel)}) == ":2");
    for (auto* i : {&a, &b}) {
        BOOST_TEST_REQUIRE(wait_until([&] { return i->listener.count() == 1; }));
        BOOST_TEST(i->listener.got().front()->version == 77);
        BOOST_TEST(i->listener.got().front()->body == sentinel->body);
        BOOST_TEST(i->bus.stats().received == 1u);
        BOOST_TEST(i->bus.stats().gaps == 0u);
        BOOST_TEST(i->connected());
    }
    BOOST_TEST(io.stop_and_wait({&a.bus, &b.bus}));
}

BOOST_AUTO_TEST_CASE(publishes_while_cut_off_are_dropped_and_end_in_one_catch_up_for_the_others)
{
    test_support::redis_server srv;
    incsync::testing::tcp_proxy link(srv.port()); // A's way to Redis, which the test cuts
    io_thread io;
    instance a(io.ioc, link.port()), b(io.ioc, srv.port());
    io.run(2);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected() && b.connected(); }));

    link.set_refusing(true);
    link.cut();
    BOOST_TEST_REQUIRE(wait_until([&] { return !a.connected(); }));
    for (version_t v = 1; v <= 3; ++v) a.bus.publish(note(1, v));
    BOOST_TEST_REQUIRE(wait_until([&] { return a.bus.stats().dropped == 3; }));
    BOOST_TEST(b.listener.gaps() == 0u);

    link.set_refusing(false);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected(); }, reconnect_deadline));
    BOOST_TEST_REQUIRE(barrier(a, b, note(1, 10))); // after A's catch_up
    BOOST_TEST_REQUIRE(barrier(b, a, note(1, 11)));

    const auto sa = a.bus.stats(), sb = b.bus.stats();
    BOOST_TEST(sa.reconnects == 1u);
    BOOST_TEST(sa.gaps == 1u); // its own reconnect
    BOOST_TEST(a.listener.gaps() == 1u);
    BOOST_TEST(sa.dropped == 3u);
    BOOST_TEST(sa.published == 2u); // the catch_up and the barrier
    BOOST_TEST(sb.reconnects == 0u);
    BOOST_TEST(sb.gaps == 1u); // A's catch_up
    BOOST_TEST(b.listener.gaps() == 1u);
    BOOST_TEST(sb.received == 1u); // the dropped three never arrive
    BOOST_TEST(b.listener.count() == 1u);
    BOOST_TEST(a.log.count("reconnecting in") >= 1u);
    BOOST_TEST(io.stop_and_wait({&a.bus, &b.bus}));
}

BOOST_AUTO_TEST_CASE(a_redis_restart_costs_each_bus_one_gap_per_reconnect_and_drops_become_a_gap_elsewhere)
{
    test_support::redis_server srv;
    incsync::testing::tcp_proxy link(srv.port()); // holds A off until B is back: a fixed order
    io_thread io;
    instance a(io.ioc, link.port()), b(io.ioc, srv.port());
    io.run(2);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected() && b.connected(); }));

    srv.stop();
    BOOST_TEST_REQUIRE(wait_until([&] { return !a.connected() && !b.connected(); }));
    a.bus.publish(note(1, 1));
    a.bus.publish(note(1, 2));
    b.bus.publish(note(2, 3));
    BOOST_TEST_REQUIRE(wait_until([&] { return a.bus.stats().dropped == 2 && b.bus.stats().dropped == 1; }));

    link.set_refusing(true);
    srv.start(); // same port
    BOOST_TEST_REQUIRE(wait_until([&] { return b.connected(); }, reconnect_deadline));
    // B's catch_up went out while A was away: A's own reconnect gap covers it.
    link.set_refusing(false);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected(); }, reconnect_deadline));
    BOOST_TEST_REQUIRE(barrier(a, b, note(1, 10)));
    BOOST_TEST_REQUIRE(barrier(b, a, note(2, 11)));

    const auto sa = a.bus.stats(), sb = b.bus.stats();
    BOOST_TEST(sa.reconnects == 1u);
    BOOST_TEST(sb.reconnects == 1u);
    BOOST_TEST(sa.gaps == 1u);      // its reconnect
    BOOST_TEST(sb.gaps == 2u);      // its reconnect, and A's catch_up
    BOOST_TEST(a.listener.gaps() == sa.gaps);
    BOOST_TEST(b.listener.gaps() == sb.gaps);
    BOOST_TEST(sa.dropped == 2u);
    BOOST_TEST(sb.dropped == 1u);
    BOOST_TEST(a.listener.count() == 1u); // only B's barrier: dropped ones never arrive
    BOOST_TEST(b.listener.count() == 1u);
    BOOST_TEST(io.stop_and_wait({&a.bus, &b.bus}));
}

BOOST_AUTO_TEST_CASE(a_killed_redis_is_rejoined_by_both_buses)
{
    test_support::redis_server srv;
    io_thread io;
    instance a(io.ioc, srv.port()), b(io.ioc, srv.port());
    io.run();
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected() && b.connected(); }));
    srv.kill();
    BOOST_TEST_REQUIRE(wait_until([&] { return !a.connected() && !b.connected(); }));
    srv.start();
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected() && b.connected(); }, reconnect_deadline));
    BOOST_TEST_REQUIRE(barrier(a, b, note(1, 10)));
    BOOST_TEST_REQUIRE(barrier(b, a, note(1, 11)));
    const auto sa = a.bus.stats(), sb = b.bus.stats();
    BOOST_TEST(sa.reconnects == 1u);
    BOOST_TEST(sb.reconnects == 1u);
    // Each its own reconnect's gap; the catch_up of whichever came back
    // last reaches the other (the first one's may go out before the other
    // listens).
    BOOST_TEST(sa.gaps >= 1u);
    BOOST_TEST(sb.gaps >= 1u);
    BOOST_TEST(sa.gaps <= 2u);
    BOOST_TEST(sb.gaps <= 2u);
    BOOST_TEST(sa.gaps + sb.gaps >= 3u);
    BOOST_TEST(io.stop_and_wait({&a.bus, &b.bus}));
}

BOOST_AUTO_TEST_CASE(an_attempt_never_answered_times_out_and_the_next_one_connects)
{
    test_support::redis_server srv;
    incsync::testing::tcp_proxy link(srv.port());
    link.set_stalled(true); // TCP connects, SUBSCRIBE is never answered
    io_thread io;
    instance a(io.ioc, link.port(), 200ms);
    io.run();
    BOOST_TEST_REQUIRE(wait_until([&] { return a.log.count("no confirmed SUBSCRIBE") >= 2; }));
    BOOST_TEST(!a.connected());
    link.set_stalled(false);
    link.cut();
    BOOST_TEST_REQUIRE(wait_until([&] { return a.connected(); }, reconnect_deadline));
    BOOST_TEST(a.bus.stats().reconnects == 0u); // the first connection
    BOOST_TEST(io.stop_and_wait({&a.bus}));
}

BOOST_AUTO_TEST_CASE(stop_lets_run_return_whether_connected_or_retrying)
{
    test_support::redis_server srv;
    {
        io_thread io;
        instance a(io.ioc, srv.port());
        io.run();
        BOOST_TEST_REQUIRE(wait_until([&] { return a.connected(); }));
        BOOST_TEST(io.stop_and_wait({&a.bus}));
        a.bus.publish(note(1, 1)); // after stop: neither sent nor a crash
        a.bus.stop();              // idempotent
    }
    srv.kill();
    {
        io_thread io;
        instance a(io.ioc, srv.port());
        io.run();
        BOOST_TEST_REQUIRE(wait_until([&] { return a.log.count("reconnecting in") >= 3; }));
        BOOST_TEST(io.stop_and_wait({&a.bus}));
        BOOST_TEST(a.bus.stats().connected == false);
    }
    {
        // The destructor alone stops it (the listener and log outlive it).
        recorder listener;
        logbook log;
        io_thread io;
        auto bus = std::make_unique<redis::notification_bus>(
            io.ioc.get_executor(),
            redis::bus_options{.port = srv.port(), .reconnect_initial = 20ms, .log = [&log](std::string_view l) { log.add(l); }});
        bus->start(listener);
        io.run();
        BOOST_TEST_REQUIRE(wait_until([&] { return log.count("reconnecting in") >= 1; }));
        bus.reset();
        BOOST_TEST(io.stop_and_wait({}));
        BOOST_TEST(listener.gaps() == 0u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace redis_notification_bus_test
