// The sync client over the loopback transport, in one translation unit
// (each instantiation of the client costs a minute of compile time):
// - sync_client_suite: initial sync, real time, coalescing, gaps, offline, resync, auth, parallel types;
// - client_failures: every failure the client can meet, driven through its public API: each
//   becomes the right error kind in the status, nothing throws, the other types go on, and
//   the type recovers on its own once the fault is gone;
// - client_images: image sync tied to image_version.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/client/analytics.hpp>

#include "loopback.hpp"

#include <incsync/testing/random.hpp>

#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <set>

namespace unit_client_sync_client_test {

using namespace incsync;
using namespace loopback;
using client::error_kind;

pos::table table_in(std::int64_t store, std::string name)
{
    pos::table t;
    t.store_id = store;
    t.name = std::move(name);
    return t;
}

/// The server's records of `E` as a register of `store` sees them, by id.
template <class E>
std::vector<E> server_view(const server_t& s, std::int64_t store)
{
    std::vector<E> out;
    for (const auto& r : s.list<E>(store).value()) out.push_back(r->value);
    std::sort(out.begin(), out.end(), [](const E& a, const E& b) { return a.id < b.id; });
    return out;
}

template <class E>
bool replica_matches(const replica_t& r, const server_t& s, std::int64_t store)
{
    return r.all<E>().value() == server_view<E>(s, store);
}

bool all_match(const replica_t& r, const server_t& s, std::int64_t store)
{
    bool ok = true;
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) { ok = ok && replica_matches<E>(r, s, store); });
    return ok;
}

BOOST_AUTO_TEST_SUITE(sync_client_suite)

BOOST_AUTO_TEST_CASE(initial_sync_fills_the_replica_with_its_store_view_and_records_sync_state)
{
    server_side server;
    for (int i = 0; i < 130; ++i) server.create(product_named("P" + std::to_string(i)));
    server.create(table_in(1, "T1"));
    server.create(table_in(2, "T2 of another store"));
    auto options = client_side::options(1);
    options.page_limit = 50;
    options.realtime = false;
    client_side c(server, options);
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return settled(c.client->status()); }));
    BOOST_TEST(all_match(c.replica, server.store, 1));
    BOOST_TEST(c.replica.size<pos::product>() == 130u);
    BOOST_TEST(c.replica.size<pos::table>() == 1u);
    auto state = c.replica.state<pos::product>().value();
    BOOST_REQUIRE(state.has_value());
    BOOST_TEST(state->sync_version == server.store.high_water().value());
    BOOST_TEST(state->last_sync_timestamp.has_value());
    const auto st = c.client->status();
    BOOST_TEST(st.type("product")->version == server.store.high_water().value());
    BOOST_TEST(st.type("product")->records == 130u);
    BOOST_TEST(!st.has_error());
    BOOST_TEST(st.last_sync.has_value());
}

BOOST_AUTO_TEST_CASE(a_notification_pulls_its_type_and_the_replica_follows_every_write)
{
    server_side server;
    auto p = server.create(product_named("Coffee")).record->value;
    client_side c(server, client_side::options(1));
    BOOST_TEST_REQUIRE(c.start_connected());

    p.price_cents = 250;
    server.update(p.id, p, member_set{}.set(member_index<pos::product>("price_cents")));
    BOOST_TEST(wait_until([&] { return c.replica.get<pos::product>(p.id).value()->price_cents == 250; }));
    server.remove<pos::product>(p.id);
    BOOST_TEST(wait_until([&] { return !c.replica.get<pos::product>(p.id).value(); }));
    server.create(table_in(1, "Terrace"));
    server.create(table_in(2, "Not ours"));
    BOOST_TEST(wait_until([&] { return c.replica.size<pos::table>() == 1; }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()) && all_match(c.replica, server.store, 1); }));
    BOOST_TEST(c.client->status().notifications >= 3u);
}

BOOST_AUTO_TEST_CASE(a_burst_of_notifications_of_one_type_coalesces_into_few_pulls)
{
    server_side server;
    auto p = server.create(product_named("Tea")).record->value;
    auto options = client_side::options(1);
    options.coalesce_window = 50ms;
    client_side c(server, options);
    BOOST_TEST_REQUIRE(c.start_connected());
    const auto before = c.transport.requests();
    for (int i = 1; i <= 200; ++i) {
        p.price_cents = i;
        server.update(p.id, p, member_set{}.set(member_index<pos::product>("price_cents")));
    }
    BOOST_TEST(wait_until([&] { return c.replica.get<pos::product>(p.id).value()->price_cents == 200; }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()); }));
    const auto pulls = c.transport.requests() - before;
    BOOST_TEST_MESSAGE("200 notifications -> " << pulls << " pulls");
    BOOST_TEST(pulls <= 20u);
    BOOST_TEST(c.client->status().notifications >= 200u);
}

BOOST_AUTO_TEST_CASE(a_notification_at_or_below_the_held_version_costs_no_pull)
{
    server_side server;
    auto created = server.create(product_named("Bread"));
    client_side c(server, client_side::options(1));
    BOOST_TEST_REQUIRE(c.start_connected());
    const auto before = c.transport.requests();
    // A duplicate of an old notification (a reordered or replayed one).
    auto stale = created.change;
    stale.store_id = std::nullopt;
    server.hub.publish(stale);
    server.hub.publish(stale);
    BOOST_TEST(wait_until([&] { return c.client->status().notifications_skipped >= 2; }));
    BOOST_TEST(c.transport.requests() == before);
}

BOOST_AUTO_TEST_CASE(a_lost_notification_shows_as_a_seq_gap_and_every_type_is_pulled)
{
    server_side server;
    auto p = server.create(product_named("Muffin")).record->value;
    auto options = client_side::options(1);
    options.coalesce_window = 1ms;
    client_side c(server, options);
    BOOST_TEST_REQUIRE(c.start_connected());
    c.transport.drop_notifications(1);
    p.price_cents = 999;
    server.update(p.id, p, member_set{}.set(member_index<pos::product>("price_cents"))); // lost
    pos::category cat;
    cat.name = "Pastry";
    server.create(cat); // arrives with seq 2 after 0: the gap pulls everything
    BOOST_TEST(wait_until([&] { return c.replica.get<pos::product>(p.id).value()->price_cents == 999; }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()) && all_match(c.replica, server.store, 1); }));
}

BOOST_AUTO_TEST_CASE(a_catch_up_message_pulls_every_type)
{
    server_side server;
    client_side c(server, client_side::options(1));
    BOOST_TEST_REQUIRE(c.start_connected());
    // Changes made behind the hub's back (no notification), then the
    // server's "you missed some": a catch_up.
    pos::product p = product_named("Silent");
    auto created = server.store.create(p).value();
    server.store.create(table_in(1, "Silent table")).value();
    auto catch_up = std::make_shared<wire::notification>();
    catch_up->body = R"("type":"catch_up"})";
    catch_up->event = "catch_up";
    server.hub.broadcast(catch_up);
    BOOST_TEST(wait_until([&] { return c.replica.get<pos::product>(created.change.id).value().has_value(); }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()) && all_match(c.replica, server.store, 1); }));
}

BOOST_AUTO_TEST_CASE(offline_shows_in_status_and_coming_back_catches_up_everything)
{
    server_side server;
    server.create(product_named("A"));
    client_side c(server, client_side::options(1));
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return settled(c.client->status()); }));

    c.transport.set_online(false);
    c.client->sync_now();
    BOOST_TEST(wait_until([&] { return !c.client->status().online; }));
    auto b = server.create(product_named("B")).record->value;
    server.create(table_in(1, "Bar"));
    // No exception, no blocking: the failure is status only.
    auto st = c.client->status();
    BOOST_TEST(!st.online);
    BOOST_TEST(st.pending > 0u);

    c.transport.set_online(true);
    c.client->network_up();
    BOOST_TEST(wait_until([&] { return c.replica.get<pos::product>(b.id).value().has_value(); }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()) && all_match(c.replica, server.store, 1); }));
    BOOST_TEST(!c.client->status().has_error());
}

BOOST_AUTO_TEST_CASE(analytics_count_pulls_bytes_failures_and_time_offline)
{
    server_side server;
    for (int i = 0; i < 5; ++i) server.create(product_named("P" + std::to_string(i)));
    client_side c(server, client_side::options(1));
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return settled(c.client->status()); }));
    auto st = c.client->status();
    const auto* products = st.type("product");
    BOOST_TEST_REQUIRE(products != nullptr);
    BOOST_TEST_REQUIRE(products->last_pull.has_value());
    BOOST_TEST(products->last_pull->records == 5u);
    BOOST_TEST(products->last_pull->bytes > 5u * 100u); // five whole records in JSON
    BOOST_TEST(products->last_pull->error == incsync::client::error_kind::none);
    BOOST_TEST(products->bytes >= products->last_pull->bytes);
    BOOST_TEST(products->failures == 0u);
    BOOST_TEST(st.pulls() >= st.types.size()); // every type pulled once at least
    BOOST_TEST(st.records() == 5u + 0u);       // the fixture's store holds only these
    BOOST_TEST(st.offline_time.count() == 0);
    BOOST_TEST(!st.offline_since.has_value());

    c.transport.set_online(false);
    c.client->sync_now();
    BOOST_TEST_REQUIRE(wait_until([&] { return !c.client->status().online; }));
    st = c.client->status();
    BOOST_TEST_REQUIRE(st.offline_since.has_value());
    BOOST_TEST(st.failures() > 0u);
    BOOST_TEST(wait_until([&] {
        const auto now = c.client->status();
        const auto* p = now.type("product");
        return p->last_pull && p->last_pull->error == incsync::client::error_kind::offline;
    }));
    // The current spell counts in offline_for, not yet in offline_time.
    const auto later = incsync::timestamp{st.offline_since->micros + 2'000'000};
    BOOST_TEST(st.offline_for(later).count() == 2'000'000 + st.offline_time.count());

    c.transport.set_online(true);
    c.client->network_up();
    BOOST_TEST_REQUIRE(wait_until([&] { return c.client->status().online && settled(c.client->status()); }));
    st = c.client->status();
    BOOST_TEST(!st.offline_since.has_value());
    BOOST_TEST(st.offline_time.count() > 0); // the spell ended and was added
    BOOST_TEST(st.type("product")->last_pull->error == incsync::client::error_kind::none);

    // The report a register sends carries the same figures.
    const auto report = incsync::client::to_analytics_report(st, 10, 1, incsync::timestamp::now());
    BOOST_TEST(report.cash_register_id == 10);
    BOOST_TEST(report.types.size() == st.types.size());
    BOOST_TEST(report.offline_seconds > 0);
    const auto parsed = incsync::wire::parse_analytics_report(incsync::wire::to_json(report));
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == report));
}

BOOST_AUTO_TEST_CASE(a_register_posts_its_analytics_while_online)
{
    server_side server;
    server.create(product_named("A"));
    auto o = client_side::options(1);
    o.analytics_interval = 20ms;
    client_side c(server, o);
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return settled(c.client->status()); }));
    BOOST_TEST_REQUIRE(wait_until([&] { return server.api.analytics().size() == 1u; }));
    const auto all = server.api.analytics().to_json(incsync::timestamp::now());
    BOOST_TEST(all.find(R"("cash_register_id":10)") != std::string::npos, all);
    BOOST_TEST(all.find(R"("store_id":1)") != std::string::npos, all);
    BOOST_TEST(all.find(R"("entity_type":"product")") != std::string::npos, all);
}

BOOST_AUTO_TEST_CASE(resync_required_reloads_only_that_type_and_sweeps_what_is_gone)
{
    memory::server_store_options so;
    so.retention = std::chrono::microseconds(0); // tombstones purged at once
    so.purge_interval = std::chrono::microseconds(0);
    server_side server(so);
    auto doomed = server.create(product_named("Doomed")).record->value;
    server.create(product_named("Stays"));
    server.create(table_in(1, "T"));
    auto options = client_side::options(1);
    options.realtime = false; // the client misses the delete entirely
    client_side c(server, options);
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return settled(c.client->status()); }));
    const auto table_pulls = c.client->status().type("table")->resyncs;

    server.remove<pos::product>(doomed.id);
    server.create(product_named("New")); // a write purges the tombstone
    auto report = c.client->perform_full_incremental_sync(boost::asio::use_future).get();
    BOOST_TEST(report.ok());
    BOOST_TEST(!c.replica.get<pos::product>(doomed.id).value().has_value());
    BOOST_TEST(replica_matches<pos::product>(c.replica, server.store, 1));
    const auto st = c.client->status();
    BOOST_TEST(st.type("product")->resyncs == 1u);
    BOOST_TEST(st.type("table")->resyncs == table_pulls);
}

BOOST_AUTO_TEST_CASE(a_refused_token_shows_auth_failure_and_a_new_token_recovers)
{
    server_side server;
    server.create(product_named("A"));
    auto options = client_side::options(1);
    options.token = "revoked";
    client_side c(server, options);
    c.client->start();
    BOOST_TEST(wait_until([&] { return c.client->status().auth_failure; }));
    const auto st = c.client->status();
    BOOST_TEST(st.online); // the server answered
    BOOST_REQUIRE(st.last_error.has_value());
    BOOST_TEST(st.last_error->kind == error_kind::auth_expired);
    for (const auto& t : st.types)
        if (t.error) BOOST_TEST((t.error->kind == error_kind::auth_expired), t.entity_type);
    BOOST_TEST(c.replica.size<pos::product>() == 0u);

    c.client->set_token("till-1");
    BOOST_TEST(wait_until([&] {
        auto s = c.client->status();
        return !s.auth_failure && settled(s) && !s.has_error();
    }));
    BOOST_TEST(all_match(c.replica, server.store, 1));
}

BOOST_AUTO_TEST_CASE(a_failing_type_does_not_stop_the_others)
{
    server_side server;
    server.create(product_named("Global"));
    server.create(table_in(2, "Of store 2"));
    auto options = client_side::options(1);
    options.store_id = 2; // till-1 is a register of store 1: store-scoped types are refused
    options.realtime = false;
    client_side c(server, options);
    auto report = c.client->perform_full_incremental_sync(boost::asio::use_future).get();
    BOOST_TEST(!report.ok());
    for (const auto& t : report.types) {
        const bool store_scoped = t.entity_type == "table" || t.entity_type == "inventory_config"
            || t.entity_type == "document_prefix" || t.entity_type == "setting";
        BOOST_TEST((t.error == (store_scoped ? error_kind::forbidden : error_kind::none)), t.entity_type);
    }
    BOOST_TEST(c.replica.size<pos::product>() == 1u);
    BOOST_TEST(c.replica.size<pos::table>() == 0u);
    BOOST_TEST(c.client->status().type("table")->error->kind == error_kind::forbidden);
}

BOOST_AUTO_TEST_CASE(explicit_sync_of_one_type_reports_its_outcome)
{
    server_side server;
    for (int i = 0; i < 7; ++i) server.create(product_named("P" + std::to_string(i)));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    auto o = c.client->perform_incremental_sync("products", boost::asio::use_future).get();
    BOOST_TEST(o.ok());
    BOOST_TEST(o.records == 7u);
    BOOST_TEST(c.replica.size<pos::product>() == 7u);
    BOOST_TEST(c.replica.size<pos::category>() == 0u);
    auto unknown = c.client->perform_incremental_sync("spaceships", boost::asio::use_future).get();
    BOOST_TEST(!unknown.ok());
}

BOOST_AUTO_TEST_CASE(check_for_updates_names_and_pulls_the_changed_types)
{
    server_side server;
    server.create(product_named("P"));
    server.create(table_in(1, "T"));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    auto changed = c.client->check_for_updates(boost::asio::use_future).get();
    std::set<std::string> names(changed.begin(), changed.end());
    BOOST_TEST(names == (std::set<std::string>{"product", "table"}));
    BOOST_TEST(wait_until([&] { return all_match(c.replica, server.store, 1); }));
}

BOOST_AUTO_TEST_CASE(a_large_catch_up_is_applied_in_chunks_with_the_cursor_last)
{
    server_side server;
    for (int i = 0; i < 1000; ++i) server.create(product_named("P" + std::to_string(i)));
    auto options = client_side::options(1);
    options.realtime = false;
    options.page_limit = 500;
    options.apply_chunk = 100;
    std::atomic<int> chunks{0};
    std::atomic<bool> cursor_ahead{false};
    std::set<std::string> cursors; // on the client's thread only
    replica_t* replica = nullptr;
    options.on_applied = [&](const client::applied_page& p) {
        if (p.entity_type != "product") return;
        ++chunks;
        // A stored cursor means its whole page is there: never ahead of the data.
        auto st = replica->state<pos::product>().value();
        if (st && !st->cursor.empty()) cursors.insert(st->cursor);
        if (replica->size<pos::product>() < 500 * cursors.size()) cursor_ahead = true;
    };
    client_side c(server, options);
    replica = &c.replica;
    auto report = c.client->perform_full_incremental_sync(boost::asio::use_future).get();
    BOOST_TEST(report.ok());
    BOOST_TEST(chunks.load() == 10);
    BOOST_TEST(!cursor_ahead.load());
    BOOST_TEST(c.replica.size<pos::product>() == 1000u);
}

BOOST_AUTO_TEST_CASE(status_subscribers_are_called_on_their_own_executor)
{
    server_side server;
    server.create(product_named("P"));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    boost::asio::io_context ui;
    std::vector<client::sync_status> seen;
    auto sub = c.client->subscribe(ui.get_executor(), [&](const client::sync_status& s) { seen.push_back(s); });
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return settled(c.client->status()); }));
    // Nothing runs on the UI's executor until the UI runs it.
    BOOST_TEST(seen.empty());
    ui.run();
    BOOST_REQUIRE(!seen.empty());
    BOOST_TEST(settled(seen.back()));
    for (std::size_t i = 1; i < seen.size(); ++i) BOOST_TEST(seen[i].revision > seen[i - 1].revision);
}

BOOST_AUTO_TEST_CASE(random_writes_converge_replicas_of_two_stores_to_their_views)
{
    server_side server;
    auto o1 = client_side::options(1);
    auto o2 = client_side::options(2);
    o1.page_limit = o2.page_limit = 7;
    client_side c1(server, o1);
    client_side c2(server, o2);
    c1.client->start();
    c2.client->start();
    std::mt19937_64 rng(20261203);
    std::vector<std::int64_t> products, tables;
    for (int step = 0; step < 600; ++step) {
        const int what = static_cast<int>(rng() % 10);
        if (what < 3 || products.empty()) {
            products.push_back(server.create(product_named("P" + std::to_string(step))).record->value.id);
        } else if (what < 5) {
            auto id = products[rng() % products.size()];
            pos::product p;
            p.price_cents = static_cast<std::int64_t>(rng() % 1000);
            server.update(id, p, member_set{}.set(member_index<pos::product>("price_cents")));
        } else if (what < 6) {
            auto i = rng() % products.size();
            server.remove<pos::product>(products[i]);
            products.erase(products.begin() + static_cast<std::ptrdiff_t>(i));
        } else if (what < 8 || tables.empty()) {
            tables.push_back(server.create(table_in(1 + static_cast<std::int64_t>(rng() % 2), "T")).record->value.id);
        } else if (what < 9) {
            auto i = rng() % tables.size();
            server.remove<pos::table>(tables[i]);
            tables.erase(tables.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            c1.transport.set_online(step % 20 != 9); // cut and restore one client's network
            if (c1.transport.online()) c1.client->network_up();
        }
    }
    c1.transport.set_online(true);
    c1.client->network_up();
    BOOST_TEST(wait_until([&] { return settled(c1.client->status()) && all_match(c1.replica, server.store, 1); }, 10s));
    BOOST_TEST(wait_until([&] { return settled(c2.client->status()) && all_match(c2.replica, server.store, 2); }, 10s));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- client_failures ----------------------------------------------------------

namespace failures {

/// A fault on the product pulls only, switchable from the test.
struct product_fault {
    std::mutex mutex;
    std::optional<client::http_result> answer;
    bool on = false;

    std::optional<client::http_result> operator()(std::string_view target)
    {
        std::lock_guard lock(mutex);
        if (!on || !target.starts_with("/api/v1/sync/products")) return std::nullopt;
        return answer;
    }
    void set(std::optional<client::http_result> a)
    {
        std::lock_guard lock(mutex);
        answer = std::move(a);
        on = true;
    }
    void clear()
    {
        std::lock_guard lock(mutex);
        on = false;
    }
};

client::http_result reply(unsigned status, std::string body, std::chrono::seconds retry_after = {})
{
    client::http_result r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = retry_after;
    return r;
}

struct fault_case {
    const char* name;
    std::optional<client::http_result> answer; // nullopt: no answer at all
    error_kind expected;
};

std::vector<fault_case> fault_cases()
{
    return {
        {"500", reply(500, R"({"error":{"code":"internal","message":"x"}})"), error_kind::server_error},
        {"429", reply(429, R"({"error":{"code":"rate_limited","message":"x"}})", std::chrono::seconds(0)),
         error_kind::rate_limited},
        {"garbled", reply(200, "{\"entity_type\":\"product\",\"changes\":[{]"), error_kind::bad_data},
        {"wrong shape", reply(200, R"({"entity_type":"product","changes":"no"})"), error_kind::bad_data},
        {"wrong record", reply(200, R"({"entity_type":"product","changes":[{"data":{"id":"seven"}}],"deleted":[],)"
                                    R"("next_since":"x","has_more":false,"version":3})"),
         error_kind::bad_data},
        {"not a pull", reply(200, "[]"), error_kind::bad_data},
        {"401", reply(401, R"({"error":{"code":"unauthorized","message":"x"}})"), error_kind::auth_expired},
        {"403", reply(403, R"({"error":{"code":"forbidden","message":"x"}})"), error_kind::forbidden},
        {"no answer", client::no_answer("connection refused"), error_kind::offline},
    };
}

} // namespace failures

using namespace failures;

BOOST_AUTO_TEST_SUITE(client_failures)

BOOST_AUTO_TEST_CASE(each_failure_becomes_its_error_kind_and_the_type_recovers)
{
    for (auto& fc : fault_cases()) {
        BOOST_TEST_CONTEXT(fc.name)
        {
            server_side server;
            const auto id = server.create(product_named("P")).record->value.id;
            pos::category cat;
            cat.name = "C";
            server.create(cat);
            auto options = client_side::options(1);
            options.realtime = false;
            options.rate_limited_persistent = 1; // show the first 429 (the default waits for 3)
            client_side c(server, options);
            auto fault = std::make_shared<product_fault>();
            c.transport.intercept([fault](std::string_view t) { return (*fault)(t); });
            fault->set(fc.answer);

            auto report = c.client->perform_full_incremental_sync(boost::asio::use_future).get();
            for (const auto& t : report.types)
                BOOST_TEST((t.error == (t.entity_type == "product" ? fc.expected : error_kind::none)), t.entity_type);
            const auto st = c.client->status();
            BOOST_REQUIRE(st.type("product")->error.has_value());
            BOOST_TEST(st.type("product")->error->kind == fc.expected);
            BOOST_TEST(st.type("product")->pending);
            BOOST_TEST(st.last_error.has_value());
            BOOST_TEST(c.replica.size<pos::category>() == 1u); // the others went on
            BOOST_TEST(st.auth_failure == (fc.expected == error_kind::auth_expired));

            fault->clear();
            if (fc.expected == error_kind::auth_expired || fc.expected == error_kind::forbidden) {
                // Not retried by itself (the token or permission must change): the operator's Sync Now.
                c.client->sync_now();
            }
            BOOST_TEST(wait_until([&] {
                auto s = c.client->status();
                return !s.type("product")->error && s.pending == 0 && !s.auth_failure;
            }));
            BOOST_TEST(c.replica.get<pos::product>(id).value().has_value());
            BOOST_TEST(!c.client->status().last_error.has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_cursor_rejected_even_after_a_reload_is_cursor_expired)
{
    server_side server;
    server.create(product_named("P"));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    auto first = c.client->perform_incremental_sync("product", boost::asio::use_future).get();
    BOOST_TEST_REQUIRE(first.ok());
    auto fault = std::make_shared<product_fault>();
    fault->set(reply(410, R"({"error":{"code":"resync_required","message":"x"}})"));
    c.transport.intercept([fault](std::string_view t) { return (*fault)(t); });
    auto o = c.client->perform_incremental_sync("product", boost::asio::use_future).get();
    BOOST_TEST((o.error == error_kind::cursor_expired));
    BOOST_TEST(c.replica.size<pos::product>() == 1u); // what it had stays readable
}

BOOST_AUTO_TEST_CASE(calls_never_throw_or_block_even_when_everything_fails)
{
    server_side server;
    auto options = client_side::options(1);
    options.token = "nobody";
    client_side c(server, options);
    c.transport.set_online(false);
    const auto start = std::chrono::steady_clock::now();
    c.client->start();
    c.client->sync_now();
    c.client->network_up();
    c.client->perform_full_incremental_sync();
    c.client->perform_incremental_sync("product");
    c.client->perform_incremental_sync("no such type");
    c.client->check_for_updates();
    c.client->set_token("still nobody");
    (void)c.client->status();
    const bool returned_at_once = std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100);
    BOOST_TEST(returned_at_once);
    BOOST_TEST(wait_until([&] { return !c.client->status().online && c.client->status().has_error(); }));
    c.transport.set_online(true);
    c.client->network_up();
    BOOST_TEST(wait_until([&] { return c.client->status().auth_failure; }));
}

BOOST_AUTO_TEST_CASE(rate_limiting_shows_in_status_only_when_it_persists)
{
    server_side server;
    server.create(product_named("P"));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    auto fault = std::make_shared<product_fault>();
    fault->set(reply(429, R"({"error":{"code":"rate_limited","message":"x"}})"));
    c.transport.intercept([fault](std::string_view t) { return (*fault)(t); });
    auto first = c.client->perform_incremental_sync("product", boost::asio::use_future).get();
    BOOST_TEST((first.error == error_kind::rate_limited));
    auto st = c.client->status();
    BOOST_TEST(!st.type("product")->error.has_value()); // once is normal pacing
    BOOST_TEST(st.type("product")->pending);
    // The retries (after Retry-After, here 0) keep meeting 429: now it shows.
    BOOST_TEST(wait_until([&] {
        auto s = c.client->status();
        return s.type("product")->error && s.type("product")->error->kind == error_kind::rate_limited;
    }));
    fault->clear();
    BOOST_TEST(wait_until([&] { return !c.client->status().has_error() && c.replica.size<pos::product>() == 1; }));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- client_images ------------------------------------------------------------

namespace images {

std::int64_t create_product(server_side& server, std::string name)
{
    pos::product p;
    p.name = std::move(name);
    return server.create(p).record->value.id;
}

std::optional<stored_image> image_of(const replica_t& r, std::int64_t id)
{
    return r.image("product", id).value();
}

} // namespace images

using namespace images;

BOOST_AUTO_TEST_SUITE(client_images)

BOOST_AUTO_TEST_CASE(a_product_image_is_fetched_replaced_on_a_new_version_and_dropped_with_its_product)
{
    server_side server;
    const auto id = create_product(server, "Croissant");
    const auto plain = create_product(server, "No picture");
    BOOST_TEST_REQUIRE(server.upload_image(id, "<circle r='1'/>") == 200u);
    client_side c(server, client_side::options(1));
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return image_of(c.replica, id).has_value(); }));
    BOOST_TEST(image_of(c.replica, id)->version == 1);
    BOOST_TEST(image_of(c.replica, id)->bytes.find("circle") != std::string::npos);
    BOOST_TEST(image_of(c.replica, id)->content_type == "image/svg+xml");
    BOOST_TEST(!image_of(c.replica, plain).has_value());

    BOOST_TEST_REQUIRE(server.upload_image(id, "<rect width='2'/>") == 200u);
    BOOST_TEST(wait_until([&] {
        auto img = image_of(c.replica, id);
        return img && img->version == 2 && img->bytes.find("rect") != std::string::npos;
    }));
    server.remove<pos::product>(id);
    BOOST_TEST(wait_until([&] { return !image_of(c.replica, id).has_value(); }));
    BOOST_TEST(wait_until([&] { return settled(c.client->status()); }));
}

BOOST_AUTO_TEST_CASE(an_unchanged_image_under_a_new_version_costs_no_transfer)
{
    server_side server;
    const auto id = create_product(server, "Bagel");
    server.upload_image(id, "<circle r='3'/>");
    client_side c(server, client_side::options(1));
    c.client->start();
    BOOST_TEST_REQUIRE(wait_until([&] { return image_of(c.replica, id).has_value(); }));
    BOOST_TEST(c.transport.answered(304) == 0u);
    server.upload_image(id, "<circle r='3'/>"); // same bytes, new image_version
    BOOST_TEST(wait_until([&] { return image_of(c.replica, id)->version == 2; }));
    BOOST_TEST(c.transport.answered(304) == 1u);
}

BOOST_AUTO_TEST_CASE(failing_downloads_are_retried_silently_and_shown_only_when_persistent)
{
    server_side server;
    const auto id = create_product(server, "Donut");
    server.upload_image(id, "<circle r='4'/>");
    std::atomic<bool> failing{true};
    auto options = client_side::options(1);
    options.image_retry_initial = 5ms;
    options.image_retry_max = 20ms;
    options.image_failures_persistent = 3;
    client_side c(server, options);
    c.transport.intercept([&](std::string_view target) -> std::optional<client::http_result> {
        if (!failing || target.find("/image") == std::string_view::npos) return std::nullopt;
        client::http_result r;
        r.status = 503;
        r.body = R"({"error":{"code":"unavailable","message":"try later"}})";
        return r;
    });
    c.client->start();
    BOOST_TEST(wait_until([&] { return c.client->status().images_failing == 1; }));
    auto st = c.client->status();
    BOOST_TEST(st.images_pending == 1u);
    BOOST_TEST(st.pending >= 1u);
    BOOST_TEST(!st.has_error()); // an image is not a sync error of its type
    failing = false;
    BOOST_TEST(wait_until([&] { return image_of(c.replica, id).has_value(); }));
    BOOST_TEST(wait_until([&] {
        auto s = c.client->status();
        return s.images_failing == 0 && s.images_pending == 0 && settled(s);
    }));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_client_sync_client_test
