// Several server instances sharing one store, and a client whose transport
// knows them all: its requests and its WebSocket move to the next instance
// when one dies, and it converges there. Ports with nothing listening stand
// for dead instances (a bound socket that never listens: refused, at once).
#include "harness.hpp"
#include "registers.hpp"

#include <incsync/beast/server.hpp>
#include <incsync/testing/tcp_proxy.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <boost/test/unit_test.hpp>

#include <future>
#include <memory>
#include <string>
#include <vector>

namespace integration_failover_test {

using namespace it;
using namespace incsync;
using client::channel;
namespace asio = boost::asio;

/// One instance of the server on 127.0.0.1 over a store it shares with
/// others, on its own io_context thread. Writes through it notify only its
/// own clients (no bus between instances here).
class shared_instance {
public:
    shared_instance(store_t& store, const std::shared_ptr<incsync::server::memory_image_repository>& images)
    {
        incsync::beast::server_options o;
        o.api.tokens.add_admin(std::string(admin_token));
        o.api.tokens.add_register(std::string(till_1), 1);
        o.api.images = images;
        o.rate = {};
        server_ = std::make_unique<incsync::beast::server<store_t>>(ioc_.get_executor(), store, std::move(o));
        server_->listen({asio::ip::make_address("127.0.0.1"), 0});
        port_ = server_->local_endpoint().port();
        runner_ = std::async(std::launch::async, [this] { ioc_.run(); });
    }

    ~shared_instance()
    {
        stop();
        if (!wait_stopped(10s)) {
            BOOST_ERROR("an instance's io_context still had work 10 s after stop()");
            ioc_.stop();
            runner_.wait();
        }
    }

    shared_instance(const shared_instance&) = delete;
    shared_instance& operator=(const shared_instance&) = delete;

    std::uint16_t port() const { return port_; }
    incsync::beast::server_stats stats() const { return server_->stats(); }
    void stop() { server_->stop(); }
    bool wait_stopped(duration timeout) { return runner_.wait_for(timeout) == std::future_status::ready; }

private:
    asio::io_context ioc_;
    std::unique_ptr<incsync::beast::server<store_t>> server_;
    std::future<void> runner_;
    std::uint16_t port_ = 0;
};

/// A port on 127.0.0.1 where a connection is refused: bound, never listening
/// (so no other test can take it meanwhile).
class refusing_port {
public:
    refusing_port()
    {
        socket_.open(asio::ip::tcp::v4());
        socket_.bind({asio::ip::make_address("127.0.0.1"), 0});
    }
    std::uint16_t port() const { return socket_.local_endpoint().port(); }

private:
    asio::io_context ioc_;
    asio::ip::tcp::acceptor socket_{ioc_};
};

client::server_url url_of(std::uint16_t port) { return {"127.0.0.1", std::to_string(port), ""}; }

/// A register as registers.hpp's `register_client` (short backoffs), over a
/// transport with several URLs.
struct failover_register {
    failover_register(std::vector<client::server_url> urls, std::int64_t id)
        : transport(std::move(urls), register_client::transport_options())
    {
        client::client_options o;
        o.token = std::string(till_1);
        o.store_id = 1;
        o.cash_register_id = id;
        o.coalesce_window = 5ms;
        o.reconnect_initial = 20ms;
        o.reconnect_max = 300ms;
        o.retry_initial = 20ms;
        o.retry_max = 300ms;
        o.request_timeout = 3s;
        client.emplace(thread.executor(), replica, transport, std::move(o));
        client->start();
    }

    ~failover_register()
    {
        client->stop();
        client.reset();
        thread.join();
    }

    failover_register(const failover_register&) = delete;
    failover_register& operator=(const failover_register&) = delete;

    client::sync_status status() const { return client->status(); }

    /// Settled (online, nothing pending or running) and equal to the store's view of store 1.
    bool converged(const store_t& s) const
    {
        const auto st = status();
        if (!st.online || st.pending != 0 || st.syncing()) return false;
        bool ok = true;
        for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) { ok = ok && matches<E>(replica, s, 1); });
        return ok;
    }

    replica_t replica;
    client::beast_transport transport;
    client::sync_thread thread{0};
    std::optional<client_t> client;
};

/// Runs one transport operation to its end on `ioc`, the io_context the
/// transport's pooled connections belong to (declared before the transport).
template <class Awaitable>
auto run_to_end(asio::io_context& ioc, Awaitable a)
{
    auto f = asio::co_spawn(ioc, std::move(a), asio::use_future);
    ioc.restart();
    ioc.run_for(10s); // every operation has its own, shorter, timeouts
    BOOST_TEST_REQUIRE((f.wait_for(0s) == std::future_status::ready));
    return f.get();
}

const std::string products_target = "/api/v1/sync/products?limit=10";

BOOST_AUTO_TEST_SUITE(failover_suite)

BOOST_AUTO_TEST_CASE(server_url_lists_parse_each_url_and_refuse_an_empty_list)
{
    auto two = client::parse_server_urls("http://127.0.0.1:8080, ws://10.0.0.2:9000/pos/");
    BOOST_TEST_REQUIRE(two.has_value());
    BOOST_TEST_REQUIRE(two->size() == 2u);
    BOOST_TEST((*two)[0].port == "8080");
    BOOST_TEST((*two)[1].host == "10.0.0.2");
    BOOST_TEST((*two)[1].base == "/pos");
    BOOST_TEST(client::to_string((*two)[1]) == "http://10.0.0.2:9000/pos");

    const std::vector<std::string> listed{"http://a:1", "http://b:2"};
    BOOST_TEST(client::parse_server_urls(listed).value().size() == 2u);

    const auto empty = client::parse_server_urls(std::vector<std::string>{});
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message().find("no server URL") != std::string::npos, empty.error().message());
    BOOST_TEST(client::parse_server_urls("").has_error());
    BOOST_TEST(client::parse_server_urls("http://a:1,,http://b:2").has_error());
    BOOST_TEST(client::parse_server_urls("http://a:1,").has_error());
    // Every URL follows parse_server_url's rules.
    BOOST_TEST(client::parse_server_urls("http://a:1,https://b:2").has_error());
    BOOST_TEST(client::parse_server_urls("http://a:1,http://b:99999").has_error());
}

BOOST_AUTO_TEST_CASE(a_refused_first_url_makes_the_first_request_succeed_on_the_second)
{
    refusing_port dead;
    server_fixture live;
    live.seed(3);
    asio::io_context ioc;
    client::beast_transport transport({url_of(dead.port()), url_of(live.port())});
    BOOST_TEST(transport.current_index() == 0u);
    const client::request_options as_till{.token = till_1, .timeout = 3s};

    const auto first = run_to_end(ioc, transport.get(products_target, as_till));
    BOOST_TEST(first.status == 200u, first.failure);
    BOOST_TEST(transport.current_index() == 1u);
    BOOST_TEST(transport.current_url().port == std::to_string(live.port()));
    BOOST_TEST(transport.failovers() == 1u);

    // The next requests, and the stream, go straight to the second URL.
    const auto second = run_to_end(ioc, transport.get(products_target, as_till));
    BOOST_TEST(second.status == 200u, second.failure);
    const auto opened = run_to_end(ioc, transport.open_stream("/ws/sync/1?store_id=1", as_till));
    BOOST_TEST(opened.stream != nullptr, opened.refusal.failure);
    if (opened.stream) opened.stream->close();
    BOOST_TEST(transport.failovers() == 1u);
    BOOST_TEST(transport.current_index() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stream_opened_on_a_refused_first_url_opens_on_the_second)
{
    refusing_port dead;
    server_fixture live;
    asio::io_context ioc;
    client::beast_transport transport({url_of(dead.port()), url_of(live.port())});
    const client::request_options as_till{.token = till_1, .timeout = 3s};
    const auto opened = run_to_end(ioc, transport.open_stream("/ws/sync/1?store_id=1", as_till));
    BOOST_TEST(opened.stream != nullptr, opened.refusal.failure);
    if (opened.stream) opened.stream->close();
    BOOST_TEST(transport.current_index() == 1u);
    BOOST_TEST(transport.failovers() == 1u);
}

BOOST_AUTO_TEST_CASE(an_http_error_answer_is_no_reason_to_move)
{
    server_fixture first;
    server_fixture second;
    asio::io_context ioc;
    client::beast_transport transport({url_of(first.port()), url_of(second.port())});
    const client::request_options stranger{.token = "never-issued", .timeout = 3s};
    BOOST_TEST(run_to_end(ioc, transport.get(products_target, stranger)).status == 401u);
    BOOST_TEST(run_to_end(ioc, transport.get("/api/v1/no-such-thing", stranger)).status >= 400u);
    const auto refused = run_to_end(ioc, transport.open_stream("/ws/sync/1?store_id=1", stranger));
    BOOST_TEST(!refused.stream);
    BOOST_TEST(refused.refusal.status == 401u);
    BOOST_TEST(transport.current_index() == 0u);
    BOOST_TEST(transport.failovers() == 0u);
    BOOST_TEST(second.stats().requests == 0u);
}

BOOST_AUTO_TEST_CASE(a_server_that_stops_answering_loses_its_pooled_connections_to_the_next_url)
{
    server_fixture first;
    server_fixture second;
    incsync::testing::tcp_proxy proxy(first.port());
    asio::io_context ioc;
    client::beast_transport transport({url_of(proxy.port()), url_of(second.port())});
    const client::request_options as_till{.token = till_1, .timeout = 3s};
    // Two exchanges at once: two keep-alive connections to the first, pooled.
    auto a = asio::co_spawn(ioc, transport.get(products_target, as_till), asio::use_future);
    auto b = asio::co_spawn(ioc, transport.get(products_target, as_till), asio::use_future);
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE((a.wait_for(0s) == std::future_status::ready && b.wait_for(0s) == std::future_status::ready));
    BOOST_TEST(a.get().status == 200u);
    BOOST_TEST(b.get().status == 200u);
    BOOST_TEST_REQUIRE(wait_until([&] { return proxy.open_connections() == 2u; }));

    // The first stops answering: the pooled connection times out without a
    // byte, so does a fresh one; the request moves on and the other pooled
    // connection is closed, not kept for later.
    proxy.set_stalled(true);
    const client::request_options quick{.token = till_1, .timeout = 300ms};
    const auto moved = run_to_end(ioc, transport.get(products_target, quick));
    BOOST_TEST(moved.status == 200u, moved.failure);
    BOOST_TEST(transport.current_index() == 1u);
    proxy.set_stalled(false);
    BOOST_TEST(wait_until([&] { return proxy.open_connections() == 0u; }));
    const auto accepted = proxy.accepted();
    BOOST_TEST(run_to_end(ioc, transport.get(products_target, as_till)).status == 200u);
    BOOST_TEST(proxy.accepted() == accepted);
    BOOST_TEST(transport.failovers() == 1u);
}

BOOST_AUTO_TEST_CASE(with_every_url_dead_a_request_fails_once_each_and_the_register_shows_offline)
{
    refusing_port a;
    refusing_port b;
    asio::io_context ioc;
    client::beast_transport transport({url_of(a.port()), url_of(b.port())});
    const client::request_options as_till{.token = till_1, .timeout = 3s};
    client::http_result r;
    BOOST_CHECK_NO_THROW(r = run_to_end(ioc, transport.get(products_target, as_till)));
    BOOST_TEST(!r.answered());
    BOOST_TEST(r.failure.find("every server URL failed") != std::string::npos, r.failure);
    BOOST_TEST(transport.failovers() == 2u); // a to b, b to a: each tried once
    BOOST_TEST(transport.current_index() == 0u);

    failover_register reg({url_of(a.port()), url_of(b.port())}, 7);
    BOOST_TEST(wait_until([&] {
        const auto st = reg.status();
        return !st.online && st.has_error();
    }));
    const auto st = reg.status();
    BOOST_TEST(st.realtime != channel::websocket);
    BOOST_TEST(!st.auth_failure);
    BOOST_TEST(reg.transport.failovers() >= 2u);
}

BOOST_AUTO_TEST_CASE(when_the_first_server_dies_requests_and_the_stream_move_to_the_second_and_converge)
{
    store_t store; // one store, two instances: the same data and cursors on both
    const auto images = std::make_shared<incsync::server::memory_image_repository>();
    auto first = std::make_unique<shared_instance>(store, images);
    shared_instance second(store, images);
    {
        http_client admin(first->port());
        for (int i = 0; i < 5; ++i) create(admin, "products", R"({"name":"Before )" + std::to_string(i) + R"("})");
        create(admin, "tables", R"({"name":"T1","store_id":1})");
    }

    failover_register reg({url_of(first->port()), url_of(second.port())}, 1);
    BOOST_TEST_REQUIRE(wait_until([&] { return reg.status().realtime == channel::websocket && reg.converged(store); }));
    BOOST_TEST(reg.transport.current_index() == 0u);
    BOOST_TEST(first->stats().websocket_connections == 1u);
    BOOST_TEST(second.stats().requests == 0u);
    {   // a write through the first still reaches it the usual way
        http_client admin(first->port());
        const auto id = create(admin, "products", R"({"name":"Through the first"})");
        BOOST_TEST(wait_until([&] { return reg.replica.get<pos::product>(id).value().has_value(); }));
    }

    first->stop();
    BOOST_TEST_REQUIRE(first->wait_stopped(10s));
    first.reset(); // gone: its port refuses

    BOOST_TEST(wait_until([&] {
        return reg.transport.current_index() == 1u && second.stats().websocket_connections == 1u
            && reg.status().realtime == channel::websocket && reg.converged(store);
    }, 10s));
    BOOST_TEST(reg.transport.current_url().port == std::to_string(second.port()));
    BOOST_TEST(reg.transport.failovers() >= 1u);

    // A write through the second reaches the register over its new stream.
    http_client admin(second.port());
    const auto notified = second.stats().notifications_sent;
    const auto id = create(admin, "products", R"({"name":"Through the second"})");
    create(admin, "tables", R"({"name":"T2","store_id":1})");
    BOOST_TEST(wait_until([&] { return reg.replica.get<pos::product>(id).value().has_value(); }));
    BOOST_TEST(wait_until([&] { return reg.converged(store); }));
    BOOST_TEST(second.stats().notifications_sent > notified);

    // Requests go there too: an explicit full sync answers from the second.
    const auto requests = second.stats().requests;
    auto full = reg.client->perform_full_incremental_sync(asio::use_future);
    BOOST_TEST_REQUIRE((full.wait_for(10s) == std::future_status::ready));
    BOOST_TEST(full.get().ok());
    BOOST_TEST(second.stats().requests > requests);
    BOOST_TEST(reg.transport.current_index() == 1u);
    BOOST_TEST(!reg.status().has_error());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_failover_test
