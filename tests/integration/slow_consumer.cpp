// Slow consumers (PROTOCOL.md section 3): a client that stops reading costs
// bounded memory, is cut off after the stall timeout, and never delays the
// clients that keep up.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace integration_slow_consumer_test {

using namespace it;

struct stream_summary {
    std::size_t notifications = 0;
    std::size_t catch_ups = 0;
    bool contiguous_seq = true;    // 1, 2, 3, ... with no gap or repeat
    bool increasing_versions = true;
    std::int64_t last_version = 0;
};

stream_summary summarize(const std::vector<std::string>& messages)
{
    stream_summary s;
    std::int64_t seq = 0;
    for (const auto& m : messages) {
        const auto o = json::parse(m).as_object();
        s.contiguous_seq = s.contiguous_seq && o.at("seq").as_int64() == ++seq;
        if (o.at("type") == json::value("catch_up")) {
            ++s.catch_ups;
            continue;
        }
        ++s.notifications;
        const auto v = o.at("version").as_int64();
        s.increasing_versions = s.increasing_versions && v > s.last_version;
        s.last_version = v;
    }
    return s;
}

BOOST_AUTO_TEST_SUITE(slow_consumer_suite)

BOOST_AUTO_TEST_CASE(a_stalled_consumer_is_cut_off_without_delaying_the_others)
{
    server_fixture f(
        [](auto& o) {
            o.outbox_capacity = 8;
            o.stall_timeout = 300ms;
            o.stream_send_buffer = 16 * 1024; // else the kernel absorbs megabytes first
        },
        2);
    // Handshakes, then never reads: a small receive window fills at once.
    raw_ws_client stalled(f.port(), "/ws/sync/stalled?token=admin-token", 4096);
    BOOST_TEST_REQUIRE(stalled.upgraded(), stalled.status());
    std::vector<std::unique_ptr<ws_client>> good;
    for (int i = 0; i < 3; ++i) {
        good.push_back(std::make_unique<ws_client>(f.port(), "/ws/sync/good" + std::to_string(i) + "?token=admin-token"));
        BOOST_TEST_REQUIRE(good.back()->is_open());
    }
    BOOST_TEST_REQUIRE(f.wait_for_stats([](const auto& s) { return s.websocket_connections == 4; }));

    // Bursts no larger than the outbox, the next one once the good clients
    // have the last: they never fall behind, the stalled one does at once.
    constexpr std::int64_t total = 3000, burst = 8;
    const auto t0 = steady::now();
    std::int64_t version = 0;
    bool delivered = true;
    while (version < total && delivered) {
        for (std::int64_t k = 0; k < burst && version < total; ++k)
            f.hub().publish(made_up_change(static_cast<incsync::version_t>(++version)));
        for (auto& g : good) delivered = delivered && g->wait_received(static_cast<std::size_t>(version), 2s);
    }
    const auto elapsed = steady::now() - t0;
    BOOST_TEST_REQUIRE(delivered, "a good client stopped receiving at version " << version);
    BOOST_TEST((elapsed < 3s), std::chrono::duration_cast<duration>(elapsed).count() << " ms for " << total);

    for (auto& g : good) {
        const auto s = summarize(g->history());
        BOOST_TEST(s.notifications == static_cast<std::size_t>(total));
        BOOST_TEST(s.catch_ups == 0u);
        BOOST_TEST(s.contiguous_seq);
        BOOST_TEST(s.increasing_versions);
        BOOST_TEST(s.last_version == total);
    }

    // Until its socket buffers are full, a consumer that reads nothing is not
    // yet stalled (its last catch_up may still fit): keep writing until it is.
    BOOST_TEST_REQUIRE(wait_until([&] {
                           f.hub().publish(made_up_change(static_cast<incsync::version_t>(++version)));
                           const auto s = f.stats();
                           return s.closed_stalled == 1 && s.websocket_connections == 3;
                       }),
                       "closed_stalled = " << f.stats().closed_stalled);
    BOOST_TEST(f.stats().closed_dead == 0u);
    for (auto& g : good) BOOST_TEST(g->is_open());

    // What reached the stalled client before it was cut off: a prefix, in order.
    std::vector<std::string> got;
    while (auto frame = stalled.read_frame(2s)) {
        BOOST_TEST(!frame->masked);
        if (frame->opcode == raw_ws_client::op_text) got.push_back(frame->payload);
    }
    BOOST_TEST(stalled.raw().peer_closed());
    const auto s = summarize(got);
    BOOST_TEST(s.contiguous_seq);
    BOOST_TEST(s.notifications < static_cast<std::size_t>(total));
    BOOST_TEST_MESSAGE("stalled client got " << s.notifications << " notifications and " << s.catch_ups
                                             << " catch_up(s) before it was closed; server catch_ups = "
                                             << f.stats().catch_ups);
}

// `catch_ups` counts backlogs replaced, written or not: a consumer stalled
// for good never receives its catch_up, yet the coalescing shows.
BOOST_AUTO_TEST_CASE(a_stalled_consumers_coalesced_backlog_is_counted)
{
    server_fixture f(
        [](auto& o) {
            o.outbox_capacity = 8;
            o.stall_timeout = 300ms;
            o.stream_send_buffer = 16 * 1024;
        });
    raw_ws_client stalled(f.port(), "/ws/sync/stalled?token=admin-token", 4096);
    BOOST_TEST_REQUIRE(stalled.upgraded());
    ws_client good(f.port(), "/ws/sync/good?token=admin-token");
    std::int64_t version = 0;
    while (version < 3000) {
        for (int k = 0; k < 8; ++k) f.hub().publish(made_up_change(static_cast<incsync::version_t>(++version)));
        BOOST_TEST_REQUIRE(good.wait_received(static_cast<std::size_t>(version), 2s));
    }
    BOOST_TEST_REQUIRE(wait_until([&] { // see above: only a full socket is a stall
        f.hub().publish(made_up_change(static_cast<incsync::version_t>(++version)));
        return f.stats().closed_stalled == 1;
    }));
    const auto s = f.stats();
    BOOST_TEST(s.catch_ups >= 1u);
    // Each catch_up replaced a full outbox (8) and the notification that overflowed it.
    BOOST_TEST(s.notifications_coalesced >= 9 * s.catch_ups);
}

BOOST_AUTO_TEST_CASE(a_burst_beyond_the_outbox_is_coalesced_into_a_catch_up_without_gaps)
{
    server_fixture f([](auto& o) { o.outbox_capacity = 8; });
    ws_client ws(f.port(), "/ws/sync/1?token=admin-token");
    BOOST_TEST_REQUIRE(ws.is_open());
    constexpr incsync::version_t burst = 2000;
    for (incsync::version_t v = 1; v <= burst; ++v) f.hub().publish(made_up_change(v));
    // A marker after the burst; published again until it arrives, since a
    // marker that lands in a still-overflowing outbox is itself coalesced.
    incsync::version_t marker = burst;
    const bool arrived = wait_until(
        [&] {
            f.hub().publish(made_up_change(++marker));
            return wait_until(
                [&] {
                    const auto h = ws.history();
                    return !h.empty() && json::parse(h.back()).as_object().if_contains("version")
                        && json::parse(h.back()).at("version").as_int64() == static_cast<std::int64_t>(marker);
                },
                50ms);
        },
        5s);
    BOOST_TEST_REQUIRE(arrived);
    const auto s = summarize(ws.history());
    BOOST_TEST(s.contiguous_seq);
    BOOST_TEST(s.increasing_versions);
    BOOST_TEST(s.catch_ups == f.stats().catch_ups);
    if (s.catch_ups == 0) BOOST_TEST(s.notifications == static_cast<std::size_t>(marker));
    else BOOST_TEST(s.notifications < static_cast<std::size_t>(marker));
    BOOST_TEST_MESSAGE("burst of " << burst << ": " << s.notifications << " notifications, " << s.catch_ups
                                   << " catch_up(s)");
    BOOST_TEST(ws.is_open());
    BOOST_TEST(f.stats().closed_stalled == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_slow_consumer_test
