// A TCP relay between clients and a server, for fault injection in tests and
// demos: it cuts every connection on command, refuses new ones, delays each
// chunk it forwards, stalls (carries nothing, closes nothing), or turns away
// WebSocket upgrades (so that clients must fall back to long-polling). It runs
// on its own thread; every method may be called from any other thread.
//
// Bandwidth (`set_bandwidth`): each direction is one link of that many bytes
// per second, shared by every connection, as a shop's one uplink is. Bytes go
// out in slices of a hundredth of a second's worth, each held until the link
// would have carried it, so a direction never exceeds the rate over any
// window longer than ~10 ms; an idle link saves up no credit.
// `bytes_to_server()` and `bytes_to_client()` count what was forwarded.
//
// Random faults (`set_faults`): for every chunk it reads, from either side,
// the relay draws one of
//   - reset:    neither forwards it nor anything after: both sides get an RST
//               (SO_LINGER 0, then close), as a crashed peer or a NAT that
//               forgot the connection gives;
//   - drop:     does not forward it and ends the connection cleanly in both
//               directions (FIN to each side, then reads what each still
//               sends, unforwarded, until its FIN; an RST after 1 s if
//               one side never closes);
//   - truncate: forwards a random proper prefix of the chunk (at least one
//               byte when the chunk has two), then ends as `drop` does: a
//               response cut short, a WebSocket frame half there;
//   - nothing,
// with the plan's probabilities (`reset + drop + truncate <= 1`), and,
// independently, with probability `delay`, holds the chunk a uniformly
// random 0..`max_delay` first. Order within a direction is kept. Draws come
// from one generator seeded with `seed`: which connection a fault hits
// depends on timing, how many faults a run sees in how many chunks does not.
// `faults()` counts how many of each were injected.
//
//     tcp_proxy proxy(server_port);
//     proxy.set_faults({.reset = 0.01, .drop = 0.01, .truncate = 0.01,
//                       .delay = 0.2, .max_delay = std::chrono::milliseconds(30), .seed = 7});
//     ...                      // clients through proxy.port() see faults
//     proxy.set_faults({});    // and now none
#ifndef INCSYNC_TESTING_TCP_PROXY_HPP
#define INCSYNC_TESTING_TCP_PROXY_HPP

#include <incsync/detail/asio_coroutines.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace incsync::testing {

struct tcp_proxy_options {
    /// Where clients connect: 127.0.0.1 and this port (0: any free one).
    std::uint16_t listen_port = 0;
    /// Where connections are relayed: 127.0.0.1 and this port.
    std::uint16_t upstream_port = 0;
};

/// Random faults, drawn per forwarded chunk (see the top of this file).
/// A default-constructed plan injects none.
struct fault_plan {
    double reset = 0;    ///< an RST to both sides instead of the chunk
    double drop = 0;     ///< a FIN to both sides instead of the chunk
    double truncate = 0; ///< part of the chunk, then a FIN to both sides
    double delay = 0;    ///< the chunk held 0..max_delay first (independent of the others)
    std::chrono::milliseconds max_delay{20};
    std::uint64_t seed = 1;
};

/// How many faults of each kind were injected since the proxy started.
struct fault_counts {
    std::size_t reset = 0;
    std::size_t dropped = 0;
    std::size_t truncated = 0;
    std::size_t delayed = 0;
    /// The connections ended by a fault.
    std::size_t ended() const noexcept { return reset + dropped + truncated; }
};

class tcp_proxy {
public:
    /// Listens at once (throws boost::system::system_error when it cannot).
    explicit tcp_proxy(tcp_proxy_options options) : impl_(std::make_shared<impl>())
    {
        auto& d = *impl_;
        d.upstream = options.upstream_port;
        const tcp::endpoint ep{boost::asio::ip::make_address("127.0.0.1"), options.listen_port};
        d.acceptor.open(ep.protocol());
        d.acceptor.set_option(tcp::acceptor::reuse_address(true));
        d.acceptor.bind(ep);
        d.acceptor.listen();
        boost::asio::co_spawn(d.ioc, d.accept_loop(), boost::asio::detached);
        d.thread = std::thread([&d] { d.ioc.run(); });
    }

    explicit tcp_proxy(std::uint16_t upstream_port) : tcp_proxy(tcp_proxy_options{.upstream_port = upstream_port}) {}

    ~tcp_proxy()
    {
        auto& d = *impl_;
        d.on_io_thread([&] {
            boost::system::error_code ec;
            d.acceptor.close(ec);
            d.reset_all();
        });
        d.ioc.stop();
        d.thread.join();
    }

    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    std::uint16_t port() const { return impl_->acceptor.local_endpoint().port(); }

    /// Resets every open connection (both sides) now.
    void cut()
    {
        auto& d = *impl_;
        d.on_io_thread([&] { d.reset_all(); });
    }
    /// While set, new connections are reset as soon as they are accepted.
    void set_refusing(bool refusing) { impl_->refusing = refusing; }
    /// Each chunk is forwarded this long after it arrived (0: at once).
    void set_delay(std::chrono::milliseconds delay) { impl_->delay_ms = delay.count(); }
    /// Caps each direction, across all connections, at this many bytes per
    /// second (0, the default: unlimited). Takes effect from the next slice.
    void set_bandwidth(std::uint64_t bytes_per_second) { impl_->bandwidth = bytes_per_second; }
    /// Bytes written to the server (resp. the clients) since the proxy started.
    std::uint64_t bytes_to_server() const { return impl_->to_server.load(std::memory_order_relaxed); }
    std::uint64_t bytes_to_client() const { return impl_->to_client.load(std::memory_order_relaxed); }
    /// While set, a connection whose first request asks for a WebSocket
    /// upgrade is closed before it reaches the server.
    void set_block_websocket(bool block) { impl_->block_websocket = block; }
    /// While set, nothing is forwarded and nothing closed: a network that
    /// silently stopped carrying packets (what heartbeats are for).
    void set_stalled(bool stalled) { impl_->stalled = stalled; }
    /// Injects random faults from now on, with a generator seeded afresh
    /// from `plan.seed`; `set_faults({})` turns them off.
    void set_faults(const fault_plan& plan)
    {
        auto& d = *impl_;
        d.on_io_thread([&] {
            d.plan = plan;
            d.faulty = plan.reset > 0 || plan.drop > 0 || plan.truncate > 0 || plan.delay > 0;
            d.rng.seed(plan.seed);
        });
    }
    fault_counts faults() const
    {
        const auto& d = *impl_;
        return {d.resets, d.drops, d.truncations, d.delays};
    }

    std::size_t open_connections() const
    {
        auto& d = *impl_;
        std::size_t n = 0;
        d.on_io_thread([&] {
            for (auto& w : d.links)
                if (auto l = w.lock(); l && l->client.is_open()) ++n;
        });
        return n;
    }
    std::size_t accepted() const { return impl_->accepted; }
    std::size_t websocket_blocked() const { return impl_->blocked; }

private:
    using tcp = boost::asio::ip::tcp;

    // One relayed connection: the client's socket and the server's.
    struct link {
        explicit link(boost::asio::io_context& ioc) : client(ioc), server(ioc) {}
        tcp::socket client;
        tcp::socket server;
        bool ending = false; // FINs sent both ways: what still arrives is read and dropped

        void reset()
        {
            boost::system::error_code ec;
            // Linger 0: an RST, as a dropped network or a crashed peer gives.
            client.set_option(boost::asio::socket_base::linger(true, 0), ec);
            server.set_option(boost::asio::socket_base::linger(true, 0), ec);
            client.close(ec);
            server.close(ec);
        }

        /// FIN to both sides; each socket closes once its peer's FIN arrived.
        void end()
        {
            ending = true;
            boost::system::error_code ec;
            client.shutdown(tcp::socket::shutdown_send, ec);
            server.shutdown(tcp::socket::shutdown_send, ec);
        }
    };

    enum class fault { none, reset, drop, truncate };

    static bool asks_for_websocket(std::string_view chunk)
    {
        std::string lower(chunk);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        return lower.find("upgrade: websocket") != std::string::npos;
    }

    struct impl {
        boost::asio::io_context ioc;
        tcp::acceptor acceptor{ioc};
        std::uint16_t upstream = 0;
        std::thread thread;
        std::atomic<bool> refusing{false};
        std::atomic<bool> block_websocket{false};
        std::atomic<bool> stalled{false};
        std::atomic<long long> delay_ms{0};
        std::atomic<std::uint64_t> bandwidth{0}; // bytes per second and direction; 0: unlimited
        std::atomic<std::uint64_t> to_server{0};
        std::atomic<std::uint64_t> to_client{0};
        // When each direction's link has carried everything reserved on it
        // so far (index: from_client). Io thread only.
        std::array<std::chrono::steady_clock::time_point, 2> link_free{};
        std::atomic<std::size_t> accepted{0};
        std::atomic<std::size_t> blocked{0};
        std::atomic<std::size_t> resets{0};
        std::atomic<std::size_t> drops{0};
        std::atomic<std::size_t> truncations{0};
        std::atomic<std::size_t> delays{0};
        std::vector<std::weak_ptr<link>> links; // io thread only
        fault_plan plan;                       // io thread only, as are the two below
        bool faulty = false;
        std::mt19937_64 rng{1};

        double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

        fault pick_fault()
        {
            const double u = draw();
            if (u < plan.reset) return fault::reset;
            if (u < plan.reset + plan.drop) return fault::drop;
            if (u < plan.reset + plan.drop + plan.truncate) return fault::truncate;
            return fault::none;
        }

        /// Ends `l` cleanly (FIN both ways), with an RST if a side has not
        /// closed after a second.
        void end_gracefully(const std::shared_ptr<link>& l)
        {
            if (l->ending) return;
            l->end();
            boost::asio::co_spawn(ioc, [this, l]() -> boost::asio::awaitable<void> {
                boost::asio::steady_timer grace(ioc, std::chrono::seconds(1));
                co_await grace.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
                l->reset();
            }, boost::asio::detached);
        }

        boost::asio::awaitable<void> accept_loop()
        {
            using boost::asio::as_tuple;
            using boost::asio::use_awaitable;
            for (;;) {
                auto [ec, socket] = co_await acceptor.async_accept(as_tuple(use_awaitable));
                if (ec) co_return; // closed
                ++accepted;
                if (refusing) {
                    boost::system::error_code ignored;
                    socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
                    socket.close(ignored);
                    continue;
                }
                auto l = std::make_shared<link>(ioc);
                l->client = std::move(socket);
                std::erase_if(links, [](const auto& w) { return w.expired(); });
                links.push_back(l);
                boost::asio::co_spawn(ioc, serve(l), boost::asio::detached);
            }
        }

        boost::asio::awaitable<void> serve(std::shared_ptr<link> l)
        {
            using boost::asio::as_tuple;
            using boost::asio::use_awaitable;
            auto [ec] = co_await l->server.async_connect({boost::asio::ip::make_address("127.0.0.1"), upstream},
                                                         as_tuple(use_awaitable));
            if (ec) {
                l->reset();
                co_return;
            }
            // As the server and the client do: with Nagle's algorithm the relay
            // would hold the tail of each chunk for the peer's delayed ACK
            // (40 ms), a delay no router adds.
            boost::system::error_code ignored;
            l->client.set_option(tcp::no_delay(true), ignored);
            l->server.set_option(tcp::no_delay(true), ignored);
            boost::asio::co_spawn(ioc, pump(l, l->server, l->client, false), boost::asio::detached);
            co_await pump(l, l->client, l->server, true);
        }

INCSYNC_BEGIN_ASIO_COROUTINES // see incsync/detail/asio_coroutines.hpp
        /// Writes `size` bytes of `data` to `to`, paced by `bandwidth` when
        /// it is set, and counts what was written.
        boost::asio::awaitable<boost::system::error_code> write_paced(tcp::socket& to, boost::asio::steady_timer& timer,
                                                                  const char* data, std::size_t size, bool from_client)
        {
            using boost::asio::as_tuple;
            using boost::asio::use_awaitable;
            auto& counter = from_client ? to_server : to_client;
            while (size > 0) {
                const std::uint64_t rate = bandwidth.load();
                std::size_t slice = size;
                if (rate > 0) {
                    slice = std::min<std::size_t>(size, std::max<std::uint64_t>(rate / 100, 1));
                    // Reserve the slice's time on the shared link and write
                    // once the link would have carried it.
                    auto& free_at = link_free[from_client ? 1 : 0];
                    const auto start = std::max(std::chrono::steady_clock::now(), free_at);
                    free_at = start + std::chrono::nanoseconds(slice * std::uint64_t{1'000'000'000} / rate);
                    timer.expires_at(free_at);
                    co_await timer.async_wait(as_tuple(use_awaitable));
                }
                auto [ec, written] = co_await boost::asio::async_write(to, boost::asio::buffer(data, slice),
                                                                       as_tuple(use_awaitable));
                counter.fetch_add(written, std::memory_order_relaxed);
                if (ec) co_return ec;
                data += slice;
                size -= slice;
            }
            co_return boost::system::error_code{};
        }

        boost::asio::awaitable<void> pump(std::shared_ptr<link> l, tcp::socket& from, tcp::socket& to, bool from_client)
        {
            using boost::asio::as_tuple;
            using boost::asio::use_awaitable;
            std::array<char, 16384> buf;
            bool first = from_client;
            boost::asio::steady_timer timer(ioc);
            for (;;) {
                auto [rec, n] = co_await from.async_read_some(boost::asio::buffer(buf), as_tuple(use_awaitable));
                if (rec) break;
                if (l->ending) continue; // ended by a fault: read to the peer's FIN, forward nothing
                if (first) {
                    first = false;
                    if (block_websocket && asks_for_websocket(std::string_view(buf.data(), n))) {
                        ++blocked;
                        break;
                    }
                }
                while (stalled) { // hold the data; poll, as a router does not tell
                    timer.expires_after(std::chrono::milliseconds(5));
                    co_await timer.async_wait(as_tuple(use_awaitable));
                }
                if (auto d = delay_ms.load(); d > 0) {
                    timer.expires_after(std::chrono::milliseconds(d));
                    co_await timer.async_wait(as_tuple(use_awaitable));
                }
                std::size_t forward = n;
                fault f = fault::none;
                if (faulty) {
                    f = pick_fault();
                    if (plan.delay > 0 && draw() < plan.delay) {
                        ++delays;
                        const auto ms = std::uniform_int_distribution<long long>(0, plan.max_delay.count())(rng);
                        timer.expires_after(std::chrono::milliseconds(ms));
                        co_await timer.async_wait(as_tuple(use_awaitable));
                        if (l->ending || !to.is_open()) continue;
                    }
                    if (f == fault::reset) {
                        ++resets;
                        break;
                    }
                    if (f == fault::drop) {
                        ++drops;
                        end_gracefully(l);
                        continue;
                    }
                    if (f == fault::truncate)
                        forward = n > 1 ? std::uniform_int_distribution<std::size_t>(1, n - 1)(rng) : 0;
                }
                if (auto wec = co_await write_paced(to, timer, buf.data(), forward, from_client)) {
                    if (l->ending) continue; // the other direction's fault shut `to`: keep draining `from`
                    break;
                }
                if (f == fault::truncate) {
                    ++truncations;
                    end_gracefully(l);
                }
            }
            // Ended by a drop or truncation: `from`'s peer has closed its side
            // too; the other socket closes when its own peer does.
            if (l->ending) {
                boost::system::error_code ec;
                from.close(ec);
                co_return;
            }
            // One side ended: end both (a half-open link would hide the failure).
            l->reset();
        }
INCSYNC_END_ASIO_COROUTINES

        void reset_all()
        {
            for (auto& w : links)
                if (auto l = w.lock()) l->reset();
        }

        template <class F>
        void on_io_thread(F f)
        {
            std::promise<void> done;
            boost::asio::post(ioc, [&] {
                f();
                done.set_value();
            });
            done.get_future().wait();
        }
    };

    std::shared_ptr<impl> impl_;
};

} // namespace incsync::testing

#endif
