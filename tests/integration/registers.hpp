// Registers for the integration tests: a real sync_client with its replica,
// Beast transport and sync thread, and the check that it holds exactly the
// server's view of its store. Used by client.cpp and fault_injection.cpp.
#ifndef INCSYNC_TESTS_INTEGRATION_REGISTERS_HPP
#define INCSYNC_TESTS_INTEGRATION_REGISTERS_HPP

#include "harness.hpp"

#include <incsync/client/beast_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/client/sync_thread.hpp>
#include <incsync/memory/client_store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace it {

using replica_t = incsync::memory::client_store<incsync::pos::entities>;
using client_t = incsync::client::sync_client<replica_t, incsync::client::beast_transport>;

/// A register: replica, transport and client on its own sync thread, with
/// short backoffs so that a test sees many reconnects in a few seconds;
/// `tweak` changes the options before the client starts.
struct register_client {
    register_client(std::uint16_t port, std::string token, std::int64_t store, std::int64_t id,
                    const std::function<void(incsync::client::client_options&)>& tweak = {})
        : register_client(std::vector<std::uint16_t>{port}, std::move(token), store, id, tweak)
    {
    }

    /// A register that knows several instances, in order of preference.
    register_client(const std::vector<std::uint16_t>& ports, std::string token, std::int64_t store, std::int64_t id,
                    const std::function<void(incsync::client::client_options&)>& tweak = {})
        : transport(urls_of(ports), transport_options())
    {
        incsync::client::client_options o;
        o.token = std::move(token);
        o.store_id = store;
        o.cash_register_id = id;
        o.coalesce_window = std::chrono::milliseconds(5);
        o.reconnect_initial = std::chrono::milliseconds(20);
        o.reconnect_max = std::chrono::milliseconds(300);
        o.retry_initial = std::chrono::milliseconds(20);
        o.retry_max = std::chrono::milliseconds(300);
        o.request_timeout = std::chrono::seconds(3);
        if (tweak) tweak(o);
        client.emplace(thread.executor(), replica, transport, std::move(o));
        client->start();
    }

    ~register_client()
    {
        client->stop();
        client.reset();
        thread.join();
    }

    register_client(const register_client&) = delete;
    register_client& operator=(const register_client&) = delete;

    static std::vector<incsync::client::server_url> urls_of(const std::vector<std::uint16_t>& ports)
    {
        std::vector<incsync::client::server_url> urls;
        for (auto p : ports) urls.push_back({"127.0.0.1", std::to_string(p), ""});
        return urls;
    }

    static incsync::client::beast_transport_options transport_options()
    {
        incsync::client::beast_transport_options t;
        t.heartbeat = std::chrono::seconds(2);
        t.connect_timeout = std::chrono::seconds(2);
        return t;
    }

    incsync::client::sync_status status() const { return client->status(); }

    replica_t replica;
    incsync::client::beast_transport transport;
    incsync::client::sync_thread thread{0};
    std::optional<client_t> client;
};

/// The replica's records of type E equal the server's for `store`.
template <class E, class Store>
bool matches(const replica_t& r, const Store& s, std::int64_t store)
{
    std::vector<E> server;
    for (const auto& rec : s.template list<E>(store).value()) server.push_back(rec->value);
    std::sort(server.begin(), server.end(), [](const E& a, const E& b) { return a.id < b.id; });
    return r.all<E>().value() == server;
}

/// Settled (online, nothing pending or running) and equal to the server's view of `store`.
template <class Store = store_t>
bool converged(const register_client& c, const Store& s, std::int64_t store)
{
    const auto st = c.status();
    if (!st.online || st.pending != 0 || st.syncing()) return false;
    bool ok = true;
    incsync::for_each_entity<incsync::pos::entities>(
        [&]<class E>(std::type_identity<E>) { ok = ok && matches<E, Store>(c.replica, s, store); });
    return ok;
}

} // namespace it

#endif
