// The notification bus: how several server instances sharing one store tell
// each other's clients about their commits. Each instance publishes the
// notifications of its own commits; every instance relays what the others
// publish into its hub. Bindings: `incsync/postgres/notification_bus.hpp`
// (LISTEN/NOTIFY, no extra service) and `incsync/redis/notification_bus.hpp`
// (Pub/Sub).
//
// A notification is a hint (DESIGN.md invariant 3), so the bus need not be
// durable, only honest: whenever messages may have been lost (the instance
// lost its broker connection, or could not publish while it was down), the
// bus says so with `on_gap`, and the relay tells every client to catch up.
#ifndef INCSYNC_BUS_HPP
#define INCSYNC_BUS_HPP

#include <incsync/hub.hpp>
#include <incsync/metrics.hpp>
#include <incsync/wire/notification.hpp>

#include <atomic>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace incsync {

/// Where a bus delivers what it receives. Called on the bus's executor.
class bus_listener {
public:
    virtual ~bus_listener() = default;
    /// A notification another instance published.
    virtual void on_notification(const notification_ptr& n) = 0;
    /// Messages may have been lost: the bus reconnected, or another instance
    /// reports that it could not publish for a while.
    virtual void on_gap() = 0;
};

/// A bus's counters, for `/metrics` and the tests.
struct bus_stats {
    bool connected = false;
    std::uint64_t published = 0; ///< messages handed to the broker
    std::uint64_t received = 0;  ///< other instances' notifications relayed
    std::uint64_t dropped = 0;   ///< publishes lost while disconnected (each ends in a catch_up)
    std::uint64_t reconnects = 0;
    std::uint64_t gaps = 0;      ///< times on_gap was called
};

/// The bus's counters as `/metrics` families, labelled with the binding
/// ("postgres", "redis").
inline void write_metrics(metrics::exposition& e, const bus_stats& s, std::string_view binding)
{
    const auto one = [&](std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
        e.family(name, type, help);
        e.sample(name, {{"bus", binding}}, v);
    };
    one("incsync_bus_connected", "gauge", "1 while the link to the notification bus is up.", s.connected ? 1 : 0);
    one("incsync_bus_published_total", "counter", "Notifications of this instance's commits handed to the bus.", s.published);
    one("incsync_bus_received_total", "counter", "Other instances' notifications relayed to this instance's clients.",
        s.received);
    one("incsync_bus_dropped_total", "counter",
        "Notifications not published because the bus was down (a catch_up followed).", s.dropped);
    one("incsync_bus_reconnects_total", "counter", "Times the link to the bus came back.", s.reconnects);
    one("incsync_bus_gaps_total", "counter", "Times every client was told to catch up because messages may be lost.",
        s.gaps);
}

/// A notification bus binding. `start` connects in the background and
/// reconnects on its own until `stop`; `publish` is thread-safe and never
/// blocks (it queues for the bus's executor). While disconnected, publishes
/// are dropped and counted; once back, the bus publishes one catch_up so the
/// other instances' clients pull what they missed, and calls `on_gap` so its
/// own do.
template <class B>
concept notification_bus = requires(B& b, const B& cb, bus_listener& l, const notification_ptr& n) {
    { b.start(l) } -> std::same_as<void>;
    { b.publish(n) } -> std::same_as<void>;
    { b.stop() } -> std::same_as<void>;
    { cb.stats() } -> std::same_as<bus_stats>;
};

/// Relays a bus into an instance's hub: remote notifications are published
/// to its clients, and a gap becomes a `catch_up` for every client.
class bus_relay final : public bus_listener {
public:
    explicit bus_relay(notification_hub& hub) : hub_(hub) {}
    void on_notification(const notification_ptr& n) override { hub_.publish(n); }
    void on_gap() override { hub_.broadcast(outbox::catch_up()); }

private:
    notification_hub& hub_;
};

namespace bus_message {

/// A random identity for this instance: the bus echoes an instance's own
/// messages back to it (Redis and NOTIFY both do), and it skips them.
inline std::string make_origin()
{
    std::random_device rd;
    const std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd();
    std::string out(16, '0');
    constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = digits[(v >> (4 * i)) & 0xf];
    return out;
}

/// `incsync1 <origin> <store|-> <version> <committed_at>\n<body>`: the
/// routing fields in a fixed header, the encoded body as is, so a receiving
/// instance shares it with its clients without encoding it again.
inline std::string encode(std::string_view origin, const wire::notification& n)
{
    std::string out;
    out.reserve(64 + n.body.size());
    out.append("incsync1 ").append(origin).push_back(' ');
    if (n.store_id) out.append(std::to_string(*n.store_id));
    else out.push_back('-');
    out.push_back(' ');
    out.append(std::to_string(n.version)).push_back(' ');
    out.append(std::to_string(n.committed_at.micros)).push_back('\n');
    out.append(n.body);
    return out;
}

/// `incsync1 <origin> catch_up`: "my publishes may have been lost".
inline std::string encode_catch_up(std::string_view origin)
{
    return std::string("incsync1 ").append(origin).append(" catch_up");
}

/// A message as received.
struct decoded {
    std::string origin;
    notification_ptr notification; ///< null for a catch_up
};

/// Parses a bus message; nullopt for anything malformed (another program on
/// the channel), which the bus ignores.
inline std::optional<decoded> decode(std::string_view m)
{
    constexpr std::string_view magic = "incsync1 ";
    if (!m.starts_with(magic)) return std::nullopt;
    m.remove_prefix(magic.size());
    auto field = [&m](char end) -> std::optional<std::string_view> {
        const auto at = m.find(end);
        if (at == std::string_view::npos || at == 0) return std::nullopt;
        auto f = m.substr(0, at);
        m.remove_prefix(at + 1);
        return f;
    };
    auto integer = [](std::string_view s, auto& out) {
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc{} && p == s.data() + s.size();
    };
    decoded d;
    const auto origin = field(' ');
    if (!origin || origin->size() > 64) return std::nullopt;
    d.origin = std::string(*origin);
    if (m == "catch_up") return d;
    const auto store = field(' ');
    const auto version = field(' ');
    const auto committed = field('\n');
    if (!store || !version || !committed || m.empty() || m.back() != '}') return std::nullopt;
    auto n = std::make_shared<wire::notification>();
    if (*store != "-") {
        std::int64_t id = 0;
        if (!integer(*store, id)) return std::nullopt;
        n->store_id = id;
    }
    if (!integer(*version, n->version) || !integer(*committed, n->committed_at.micros)) return std::nullopt;
    n->body = std::string(m);
    d.notification = std::move(n);
    return d;
}

} // namespace bus_message

namespace detail {

/// The bookkeeping every bus binding shares: drops while disconnected, the
/// gap after a reconnect, the catch_up owed to the other instances, its own
/// echoes skipped, and the counters. Used on the bus's executor; `stats` may
/// be read from any thread.
class bus_book {
public:
    bus_book() : origin_(bus_message::make_origin()) {}

    const std::string& origin() const noexcept { return origin_; }
    bool connected() const noexcept { return connected_.load(std::memory_order_relaxed); }

    /// The message to send for `n`, or nullopt when disconnected (dropped,
    /// and a catch_up is owed once back).
    std::optional<std::string> outgoing(const wire::notification& n)
    {
        if (!connected()) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            owe_catch_up_ = true;
            return std::nullopt;
        }
        published_.fetch_add(1, std::memory_order_relaxed);
        return bus_message::encode(origin_, n);
    }

    /// Connected and subscribed again. Calls `on_gap` unless this is the
    /// first connection; returns the catch_up to publish first, if owed.
    std::optional<std::string> resumed(bus_listener& listener)
    {
        connected_.store(true, std::memory_order_relaxed);
        if (ever_connected_) {
            reconnects_.fetch_add(1, std::memory_order_relaxed);
            gap(listener);
            owe_catch_up_ = true; // what was in flight when the link broke may be lost
        }
        ever_connected_ = true;
        if (!owe_catch_up_) return std::nullopt;
        owe_catch_up_ = false;
        published_.fetch_add(1, std::memory_order_relaxed);
        return bus_message::encode_catch_up(origin_);
    }

    /// The link broke (or never came up): publishes drop until `resumed`.
    void lost() noexcept { connected_.store(false, std::memory_order_relaxed); }

    /// A message from the broker: relayed, turned into a gap, or ignored
    /// (its own echo, or not ours at all).
    void received(std::string_view message, bus_listener& listener)
    {
        auto m = bus_message::decode(message);
        if (!m || m->origin == origin_) return;
        if (!m->notification) return gap(listener);
        received_.fetch_add(1, std::memory_order_relaxed);
        listener.on_notification(m->notification);
    }

    bus_stats stats() const noexcept
    {
        return {connected(), published_.load(std::memory_order_relaxed), received_.load(std::memory_order_relaxed),
                dropped_.load(std::memory_order_relaxed), reconnects_.load(std::memory_order_relaxed),
                gaps_.load(std::memory_order_relaxed)};
    }

private:
    void gap(bus_listener& listener)
    {
        gaps_.fetch_add(1, std::memory_order_relaxed);
        listener.on_gap();
    }

    std::string origin_;
    bool ever_connected_ = false;
    bool owe_catch_up_ = false;
    std::atomic<bool> connected_{false};
    std::atomic<std::uint64_t> published_{0}, received_{0}, dropped_{0}, reconnects_{0}, gaps_{0};
};

} // namespace detail

} // namespace incsync

#endif
