// A server and a client in one process, joined by the loopback transport:
// the client's logic under test with no sockets. The client runs on its own
// io_context thread, as it would in a POS.
#ifndef INCSYNC_TESTS_UNIT_CLIENT_LOOPBACK_HPP
#define INCSYNC_TESTS_UNIT_CLIENT_LOOPBACK_HPP

#include <incsync/client/loopback_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/hub.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/server/handler.hpp>
#include <incsync/server/images.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "../wait.hpp"

namespace loopback {

using namespace std::chrono_literals;
using server_t = incsync::memory::server_store<incsync::pos::entities>;
using replica_t = incsync::memory::client_store<incsync::pos::entities>;
using transport_t = incsync::client::loopback_transport<server_t>;
using client_t = incsync::client::sync_client<replica_t, transport_t>;

using testwait::wait_until;

/// A product with a name and a price (the fixtures' usual record).
inline incsync::pos::product product_named(std::string name, std::int64_t price = 100)
{
    incsync::pos::product p;
    p.name = std::move(name);
    p.price_cents = price;
    p.is_active = true;
    return p;
}

/// Online, nothing pending, nothing pulling: the client has caught up.
inline bool settled(const incsync::client::sync_status& st)
{
    return st.online && st.pending == 0 && !st.syncing();
}

inline incsync::server::handler_options handler_options(incsync::notification_hub& hub)
{
    incsync::server::handler_options o;
    o.tokens.add_admin("admin");
    o.tokens.add_register("till-1", 1);
    o.tokens.add_register("till-2", 2);
    o.on_commit = [&hub](const incsync::change& c) { hub.publish(c); };
    o.images = std::make_shared<incsync::server::memory_image_repository>();
    return o;
}

/// The server side: store, hub, handler; writes go through `write_*` so
/// that they are notified as the real server does.
struct server_side {
    explicit server_side(incsync::memory::server_store_options options = {})
        : store(options), api(store, handler_options(hub)) {}

    template <class E>
    incsync::commit<E> create(E value)
    {
        auto c = store.create(value).value();
        hub.publish(c.change);
        return c;
    }

    template <class E>
    incsync::commit<E> update(std::int64_t id, const E& value, incsync::member_set members)
    {
        auto c = store.update(id, value, members).value();
        if (!c.is_noop()) hub.publish(c.change);
        return c;
    }

    template <class E>
    incsync::commit<E> remove(std::int64_t id)
    {
        auto c = store.template remove<E>(id).value();
        hub.publish(c.change);
        return c;
    }

    /// Uploads an image for product `id` through the API (bumps its image_version).
    unsigned upload_image(std::int64_t id, std::string svg_text)
    {
        incsync::server::request req{boost::beast::http::verb::put, "/api/v1/products/" + std::to_string(id) + "/image", 11};
        req.set(boost::beast::http::field::authorization, "Bearer admin");
        req.body() = "<svg xmlns=\"http://www.w3.org/2000/svg\">" + svg_text + "</svg>";
        req.prepare_payload();
        return api.handle(req).result_int();
    }

    server_t store;
    incsync::notification_hub hub;
    incsync::server::handler<server_t> api;
};

/// A client on its own thread against a `server_side`.
struct client_side {
    client_side(server_side& server, incsync::client::client_options options)
        : transport(server.api, server.hub), work(ioc.get_executor())
    {
        client.emplace(ioc.get_executor(), replica, transport, std::move(options));
        thread = std::thread([this] { ioc.run(); });
    }

    ~client_side()
    {
        client->stop();
        client.reset();
        work.reset();
        thread.join();
    }

    /// Starts the client and waits until its WebSocket is open and it has caught up.
    bool start_connected()
    {
        client->start();
        return wait_until([&] {
            auto st = client->status();
            return st.realtime == incsync::client::channel::websocket && settled(st);
        });
    }

    static incsync::client::client_options options(std::int64_t store = 1)
    {
        incsync::client::client_options o;
        o.token = store == 1 ? "till-1" : "till-2";
        o.store_id = store;
        o.cash_register_id = store * 10;
        o.coalesce_window = 5ms;
        o.reconnect_initial = 10ms;
        o.reconnect_max = 100ms;
        o.retry_initial = 10ms;
        o.retry_max = 100ms;
        o.long_poll_wait = 1s;
        return o;
    }

    replica_t replica;
    transport_t transport;
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
    std::optional<client_t> client;
    std::thread thread;
};

} // namespace loopback

#endif
