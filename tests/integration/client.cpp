// The client against the real server over real sockets (Beast HTTP and
// WebSocket), directly and through a proxy that cuts, delays and blocks.
#include "harness.hpp"
#include "registers.hpp"

#include <incsync/testing/tcp_proxy.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <boost/test/unit_test.hpp>

#include <random>

namespace integration_client_test {

using namespace it;
using namespace incsync;
using client::channel;
using client::error_kind;
using testing::tcp_proxy;

/// Random admin writes over HTTP: products, tables of both stores, settings.
void random_writes(http_client& admin, std::mt19937_64& rng, int count, const std::function<void(int)>& each = {})
{
    std::vector<std::int64_t> products, tables;
    for (int i = 0; i < count; ++i) {
        const auto r = rng() % 10;
        if (r < 3 || products.empty()) {
            products.push_back(create(admin, "products", R"({"name":"P)" + std::to_string(i) + R"(","price_cents":100})"));
        } else if (r < 5) {
            auto id = products[rng() % products.size()];
            admin.send(http::verb::patch, "/api/v1/products/" + std::to_string(id),
                       R"({"price_cents":)" + std::to_string(rng() % 5000) + "}");
        } else if (r < 6) {
            auto k = rng() % products.size();
            admin.send(http::verb::delete_, "/api/v1/products/" + std::to_string(products[k]));
            products.erase(products.begin() + static_cast<std::ptrdiff_t>(k));
        } else if (r < 8 || tables.empty()) {
            tables.push_back(create(admin, "tables",
                                    R"({"name":"T","store_id":)" + std::to_string(1 + rng() % 2) + "}"));
        } else if (r < 9) {
            auto k = rng() % tables.size();
            admin.send(http::verb::delete_, "/api/v1/tables/" + std::to_string(tables[k]));
            tables.erase(tables.begin() + static_cast<std::ptrdiff_t>(k));
        } else {
            create(admin, "settings", R"({"key":"k)" + std::to_string(i) + R"(","value":"v","store_id":)"
                                          + (rng() % 2 ? std::string("1") : std::string("null")) + "}");
        }
        if (each) each(i);
    }
}

/// The server of these tests: no rate limit (the admin writer is fast).
void unlimited(incsync::beast::server_options& o) { o.rate = {}; }

BOOST_AUTO_TEST_SUITE(client_suite)

BOOST_AUTO_TEST_CASE(registers_of_two_stores_converge_to_their_views_under_random_writes)
{
    server_fixture server(unlimited);
    server.seed(20);
    register_client a(server.port(), std::string(till_1), 1, 1);
    register_client b(server.port(), std::string(till_1), 1, 2);
    register_client c(server.port(), std::string(till_2), 2, 3);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.status().realtime == channel::websocket; }));
    auto admin = server.http();
    std::mt19937_64 rng(4711);
    random_writes(admin, rng, 300);
    BOOST_TEST(wait_until([&] { return converged(a, server.store, 1); }, 10s));
    BOOST_TEST(wait_until([&] { return converged(b, server.store, 1); }, 10s));
    BOOST_TEST(wait_until([&] { return converged(c, server.store, 2); }, 10s));
    for (const auto* r : {&a, &b, &c}) {
        const auto st = r->status();
        BOOST_TEST(!st.has_error());
        BOOST_TEST(st.realtime == channel::websocket);
        BOOST_TEST(st.notifications > 0u);
    }
}

BOOST_AUTO_TEST_CASE(a_proxy_that_cuts_and_delays_connections_delays_registers_but_they_converge)
{
    server_fixture server(unlimited);
    server.seed(20);
    tcp_proxy proxy(server.port());
    proxy.set_delay(std::chrono::milliseconds(2));
    register_client a(proxy.port(), std::string(till_1), 1, 1);
    register_client b(proxy.port(), std::string(till_2), 2, 2);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.status().realtime == channel::websocket; }));
    auto admin = server.http();
    std::mt19937_64 rng(99);
    random_writes(admin, rng, 200, [&](int i) {
        if (i % 40 == 20) proxy.cut();
        if (i % 70 == 35) proxy.set_refusing(true);
        if (i % 70 == 45) proxy.set_refusing(false);
    });
    proxy.set_refusing(false);
    BOOST_TEST(wait_until([&] { return converged(a, server.store, 1); }, 15s));
    BOOST_TEST(wait_until([&] { return converged(b, server.store, 2); }, 15s));
    BOOST_TEST(a.status().reconnects > 0u);
    BOOST_TEST(!a.status().has_error());
}

BOOST_AUTO_TEST_CASE(a_websocket_handshake_reset_before_any_answer_is_no_answer)
{
    // The register counts any answer as being online. A connection reset
    // before the server answered once came back as a 200 (Beast's empty
    // response), so while the network was down the badge flickered online
    // at every reconnect attempt.
    server_fixture server(unlimited);
    tcp_proxy proxy(server.port());
    proxy.set_refusing(true); // accepts, then resets
    client::beast_transport transport(client::server_url{"127.0.0.1", std::to_string(proxy.port()), ""});
    boost::asio::io_context ioc;
    // The options outlive the coroutine's start (open_stream reads them then).
    const client::request_options as_till{.token = till_1};
    const client::request_options as_stranger{.token = "wrong"};
    auto opened = boost::asio::co_spawn(ioc, transport.open_stream("/ws/sync/1?store_id=1", as_till),
                                        boost::asio::use_future);
    ioc.run();
    const auto result = opened.get();
    BOOST_TEST(!result.stream);
    BOOST_TEST(result.refusal.status == 0u);
    BOOST_TEST(!result.refusal.answered());
    BOOST_TEST(!result.refusal.failure.empty());

    proxy.set_refusing(false); // and a real refusal still carries its status
    auto refused = boost::asio::co_spawn(ioc, transport.open_stream("/ws/sync/1?store_id=1", as_stranger),
                                         boost::asio::use_future);
    ioc.restart();
    ioc.run();
    BOOST_TEST(refused.get().refusal.status == 401u);
}

BOOST_AUTO_TEST_CASE(without_websocket_a_register_long_polls_and_returns_to_websocket)
{
    server_fixture server(unlimited);
    tcp_proxy proxy(server.port());
    proxy.set_block_websocket(true);
    register_client a(proxy.port(), std::string(till_1), 1, 1, [](client::client_options& o) {
        o.fallback_after = 2;
        o.long_poll_wait = std::chrono::seconds(1);
    });
    BOOST_TEST_REQUIRE(wait_until([&] { return a.status().realtime == channel::long_poll; }));
    auto admin = server.http();
    const auto id = create(admin, "products", R"({"name":"Via long poll"})");
    BOOST_TEST(wait_until([&] { return a.replica.get<pos::product>(id).value().has_value(); }));
    BOOST_TEST(proxy.websocket_blocked() >= 2u);

    proxy.set_block_websocket(false);
    BOOST_TEST(wait_until([&] { return a.status().realtime == channel::websocket; }, 10s));
    const auto id2 = create(admin, "products", R"({"name":"Via WebSocket"})");
    BOOST_TEST(wait_until([&] { return a.replica.get<pos::product>(id2).value().has_value(); }));
    BOOST_TEST(wait_until([&] { return converged(a, server.store, 1); }));
}

BOOST_AUTO_TEST_CASE(the_heartbeat_finds_a_connection_that_silently_died)
{
    server_fixture server(unlimited);
    tcp_proxy proxy(server.port());
    register_client a(proxy.port(), std::string(till_1), 1, 1); // heartbeat 2 s
    BOOST_TEST_REQUIRE(wait_until([&] { return a.status().realtime == channel::websocket; }));
    proxy.set_stalled(true); // no FIN, no RST: packets just stop
    const auto since = steady::now();
    BOOST_TEST(wait_until([&] { return a.status().realtime != channel::websocket; }, 6s));
    BOOST_TEST_MESSAGE("dead connection noticed after "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since).count() << " ms");
    proxy.set_stalled(false);
    proxy.cut(); // the stalled connections carry old bytes: start clean
    BOOST_TEST(wait_until([&] { return a.status().realtime == channel::websocket; }, 10s));
    auto admin = server.http();
    const auto id = create(admin, "products", R"({"name":"After the outage"})");
    BOOST_TEST(wait_until([&] { return a.replica.get<pos::product>(id).value().has_value(); }));
}

BOOST_AUTO_TEST_CASE(an_unknown_token_shows_auth_failure_and_nothing_else)
{
    server_fixture server(unlimited);
    server.seed(5);
    register_client a(server.port(), "never-issued", 1, 1);
    BOOST_TEST(wait_until([&] {
        auto st = a.status();
        return st.auth_failure && !st.syncing();
    }));
    const auto st = a.status();
    BOOST_TEST(st.online); // the server answered: not a network problem
    for (const auto& t : st.types)
        if (t.error) BOOST_TEST((t.error->kind == error_kind::auth_expired), t.entity_type);
    BOOST_TEST(st.realtime == channel::none);
    BOOST_TEST(a.replica.size<pos::product>() == 0u);
}

BOOST_AUTO_TEST_CASE(a_token_revoked_while_connected_shows_auth_failure_and_nothing_else)
{
    server_fixture server([](incsync::beast::server_options& o) {
        o.rate = {};
        o.api.tokens.add_register("till-temp", 1);
    });
    server.seed(5);
    register_client a(server.port(), "till-temp", 1, 1);
    BOOST_TEST_REQUIRE(wait_until([&] { return converged(a, server.store, 1); }));
    const auto products = a.replica.size<pos::product>();
    BOOST_TEST_REQUIRE(server.revoke_token("till-temp"));
    auto admin = server.http();
    create(admin, "products", R"({"name":"After the revocation"})"); // its notification makes the register pull
    BOOST_TEST(wait_until([&] {
        auto st = a.status();
        return st.auth_failure && st.realtime == channel::none && !st.syncing();
    }));
    const auto st = a.status();
    BOOST_TEST(st.online);
    for (const auto& t : st.types)
        if (t.error) BOOST_TEST((t.error->kind == error_kind::auth_expired), t.entity_type);
    BOOST_TEST(st.type("product")->error.has_value());
    BOOST_TEST(a.replica.size<pos::product>() == products); // what it had stays readable
    // It stops asking: no reconnect storm with a refused token.
    const auto refused = server.stats().requests;
    create(admin, "products", R"({"name":"Another"})");
    BOOST_TEST(!wait_until([&] { return server.stats().requests > refused + 2; }, std::chrono::milliseconds(300)));
}

BOOST_AUTO_TEST_CASE(a_server_out_of_reach_is_offline_in_status_and_caught_up_after)
{
    server_fixture server(unlimited);
    tcp_proxy proxy(server.port());
    register_client a(proxy.port(), std::string(till_1), 1, 1);
    BOOST_TEST_REQUIRE(wait_until([&] { return a.status().realtime == channel::websocket; }));
    proxy.set_refusing(true);
    proxy.cut();
    a.client->sync_now();
    BOOST_TEST(wait_until([&] { return !a.status().online; }));
    auto admin = server.http();
    const auto id = create(admin, "products", R"({"name":"Made while offline"})");
    proxy.set_refusing(false);
    a.client->network_up();
    BOOST_TEST(wait_until([&] { return a.replica.get<pos::product>(id).value().has_value(); }, 10s));
    BOOST_TEST(wait_until([&] { return converged(a, server.store, 1); }));
}

// The README's register-client snippet, compiled and run (against a port
// where no server listens: the client must stay silent and report offline).
BOOST_AUTO_TEST_CASE(readme_register_client_snippet)
{
    boost::asio::io_context ui;
    auto ui_executor = ui.get_executor();
    struct {
        int shown = 0;
        bool offline_seen = false;
        void show(const incsync::client::sync_status& s)
        {
            ++shown;
            offline_seen = offline_seen || (!s.online && s.has_error());
        }
    } bottom_bar;
    {
        // ---- README: "In your own register application" (port 1: nobody listens) ----
        namespace pos = incsync::pos;
        namespace client = incsync::client;

        incsync::memory::client_store<pos::entities> replica;  // the register's local data
        client::beast_transport transport(*client::parse_server_url("http://127.0.0.1:1"));
        client::sync_thread sync;                               // sync work: its own low-priority thread

        client::client_options options;
        options.token = "till-1";
        options.store_id = 1;
        options.cash_register_id = 7;
        client::sync_client<decltype(replica), client::beast_transport> register7(
            sync.executor(), replica, transport, options);
        register7.start();  // initial sync, WebSocket, reconnects, images: all silent

        // The UI gets status snapshots on its own executor; nothing ever throws into it.
        auto subscription = register7.subscribe(ui_executor, [&](const client::sync_status& s) { bottom_bar.show(s); });
        auto espresso = replica.get<pos::product>(1); // the POS reads its replica at any time
        register7.sync_now();                          // the operator's "Sync Now"
        // ---- end of the README snippet ----

        BOOST_TEST(espresso.has_value()); // a read, not an error: nothing is there yet
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!bottom_bar.offline_seen && std::chrono::steady_clock::now() < deadline) {
            ui.run_for(std::chrono::milliseconds(5));
            ui.restart();
        }
        register7.stop();
    }
    BOOST_TEST(bottom_bar.offline_seen);
    BOOST_TEST(bottom_bar.shown > 0);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_client_test
