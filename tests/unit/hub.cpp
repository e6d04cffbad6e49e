#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/hub.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

namespace unit_hub_test {

using namespace incsync;

struct recorder : subscriber {
    std::vector<notification_ptr> got;
    void deliver(const notification_ptr& n) override { got.push_back(n); }
};

notification_ptr note(std::optional<std::int64_t> store, version_t v)
{
    change c{v, "table", 1, store, change_type::update, {}, timestamp{static_cast<std::int64_t>(v)}};
    return wire::make_notification(c);
}

std::string frame_text(const outbox::frame& f) { return std::string(f.prefix.view()) + f.body->body; }

BOOST_AUTO_TEST_SUITE(hub_suite)

BOOST_AUTO_TEST_CASE(stores_are_walled_off_and_global_changes_reach_everyone)
{
    notification_hub hub;
    recorder a1, b1, s2, admin;
    auto ka1 = hub.subscribe(a1, 1), kb1 = hub.subscribe(b1, 1), ks2 = hub.subscribe(s2, 2), kad = hub.subscribe(admin, std::nullopt);
    hub.publish(note(std::nullopt, 1));
    hub.publish(note(1, 2));
    hub.publish(note(2, 3));
    hub.publish(note(3, 4)); // nobody of store 3 is connected
    auto versions = [](const recorder& r) {
        std::vector<version_t> v;
        for (auto& n : r.got) v.push_back(n->version);
        return v;
    };
    BOOST_TEST(versions(a1) == (std::vector<version_t>{1, 2}), boost::test_tools::per_element());
    BOOST_TEST(versions(b1) == (std::vector<version_t>{1, 2}), boost::test_tools::per_element());
    BOOST_TEST(versions(s2) == (std::vector<version_t>{1, 3}), boost::test_tools::per_element());
    BOOST_TEST(versions(admin) == (std::vector<version_t>{1, 2, 3, 4}), boost::test_tools::per_element());
    // One encoded buffer, shared by every connection.
    BOOST_TEST(a1.got[0].get() == s2.got[0].get());
    BOOST_TEST(a1.got[0].get() == admin.got[0].get());
}

BOOST_AUTO_TEST_CASE(a_closed_connection_receives_nothing_more)
{
    notification_hub hub;
    recorder r[4];
    std::vector<notification_hub::subscription> subs;
    for (auto& x : r) subs.push_back(hub.subscribe(x, 1));
    BOOST_TEST(hub.subscribers() == 4u);
    subs[1].reset(); // from the middle: the last one moves into its place
    subs[0] = notification_hub::subscription{};
    BOOST_TEST(hub.subscribers() == 2u);
    hub.publish(note(1, 1));
    BOOST_TEST(r[0].got.empty());
    BOOST_TEST(r[1].got.empty());
    BOOST_TEST(r[2].got.size() == 1u);
    BOOST_TEST(r[3].got.size() == 1u);
    subs.clear();
    BOOST_TEST(hub.subscribers() == 0u);
}

BOOST_AUTO_TEST_CASE(outbox_numbers_frames_and_wakes_once_per_idle_period)
{
    outbox box(8);
    BOOST_TEST(box.push(note(1, 1)));  // idle: wake the writer
    BOOST_TEST(!box.push(note(1, 2))); // already writing
    std::vector<outbox::frame> frames;
    BOOST_TEST(box.take(frames));
    BOOST_REQUIRE_EQUAL(frames.size(), 2u); // both leave in one gather write
    const auto first = boost::json::parse(frame_text(frames[0])).as_object();
    BOOST_TEST(first.at("seq").as_int64() == 1);
    BOOST_TEST(first.at("version").as_int64() == 1);
    BOOST_TEST(boost::json::parse(frame_text(frames[1])).at("seq").as_int64() == 2);
    frames.clear();
    BOOST_TEST(!box.take(frames)); // nothing left: idle
    BOOST_TEST(box.push(note(1, 3))); // wakes again
    BOOST_TEST(box.take(frames));
    BOOST_TEST(boost::json::parse(frame_text(frames[0])).at("seq").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(stalled_consumer_is_bounded_and_told_to_catch_up)
{
    outbox box(16);
    for (version_t v = 1; v <= 100000; ++v) (void)box.push(note(1, v));
    BOOST_TEST(box.queued() <= 16u);
    BOOST_TEST(box.coalesced() == 100000u);
    std::vector<outbox::frame> frames;
    BOOST_TEST(box.take(frames));
    BOOST_REQUIRE_EQUAL(frames.size(), 1u);
    const auto m = boost::json::parse(frame_text(frames[0])).as_object();
    BOOST_TEST(m.at("type").as_string() == "catch_up");
    BOOST_TEST(m.at("seq").as_int64() == 1);
    frames.clear();
    (void)box.push(note(1, 100001));
    BOOST_TEST(box.take(frames));
    BOOST_TEST(boost::json::parse(frame_text(frames[0])).at("seq").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(a_replaced_backlog_is_reported_once_per_overflow)
{
    outbox box(4);
    int replaced_count = 0;
    std::uint64_t coalesced_sum = 0;
    auto push = [&](version_t v) {
        bool replaced = false;
        std::uint64_t coalesced = 99;
        (void)box.push(note(1, v), &replaced, &coalesced);
        replaced_count += replaced;
        coalesced_sum += coalesced;
    };
    for (version_t v = 1; v <= 4; ++v) push(v);
    BOOST_TEST(replaced_count == 0); // full, not over
    BOOST_TEST(coalesced_sum == 0u);
    for (version_t v = 5; v <= 50; ++v) push(v);
    BOOST_TEST(replaced_count == 1); // one overflow, however long it lasts
    BOOST_TEST(coalesced_sum == 50u); // the 4 queued and every push since: each push says its share
    BOOST_TEST(box.coalesced() == coalesced_sum);
    std::vector<outbox::frame> frames;
    BOOST_TEST(box.take(frames)); // the catch_up ends the overflow
    for (version_t v = 51; v <= 60; ++v) push(v);
    BOOST_TEST(replaced_count == 2);
    BOOST_TEST(box.coalesced() == coalesced_sum);
}

BOOST_AUTO_TEST_CASE(concurrent_producers_lose_nothing_unaccounted)
{
    outbox box(64);
    constexpr int producers = 3, each = 20000;
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&] {
            for (int i = 0; i < each; ++i) (void)box.push(note(1, static_cast<version_t>(i + 1)));
            ++done;
        });
    std::uint64_t delivered = 0, catch_ups = 0, last_seq = 0;
    std::vector<outbox::frame> frames;
    auto drain = [&] {
        frames.clear();
        (void)box.take(frames);
        for (auto& f : frames) {
            const auto m = boost::json::parse(frame_text(f)).as_object();
            const auto seq = static_cast<std::uint64_t>(m.at("seq").as_int64());
            BOOST_REQUIRE_EQUAL(seq, last_seq + 1); // no gaps, no repeats
            last_seq = seq;
            if (m.at("type").as_string() == "catch_up") ++catch_ups;
            else ++delivered;
        }
    };
    while (done < producers) drain();
    for (auto& t : threads) t.join();
    drain();
    drain();
    BOOST_TEST(delivered + box.coalesced() == std::uint64_t{producers} * each);
    BOOST_TEST((box.coalesced() == 0u) == (catch_ups == 0u));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_hub_test
