#include "proxy.hpp"

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
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace it {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// One proxied connection: the client's socket and the server's.
struct link {
    explicit link(asio::io_context& ioc) : client(ioc), server(ioc) {}
    tcp::socket client;
    tcp::socket server;

    void reset()
    {
        boost::system::error_code ec;
        // Linger 0: an RST, as a dropped network or a crashed peer gives.
        client.set_option(asio::socket_base::linger(true, 0), ec);
        server.set_option(asio::socket_base::linger(true, 0), ec);
        client.close(ec);
        server.close(ec);
    }
};

bool asks_for_websocket(std::string_view chunk)
{
    std::string lower(chunk);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.find("upgrade: websocket") != std::string::npos;
}

} // namespace

struct tcp_proxy::impl : std::enable_shared_from_this<impl> {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::uint16_t upstream = 0;
    std::thread thread;
    std::atomic<bool> refusing{false};
    std::atomic<bool> block_websocket{false};
    std::atomic<bool> stalled{false};
    std::atomic<long long> delay_ms{0};
    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> blocked{0};
    std::vector<std::weak_ptr<link>> links; // io thread only

    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(as_tuple(use_awaitable));
            if (ec) co_return; // closed
            ++accepted;
            if (refusing) {
                boost::system::error_code ignored;
                socket.set_option(asio::socket_base::linger(true, 0), ignored);
                socket.close(ignored);
                continue;
            }
            auto l = std::make_shared<link>(ioc);
            l->client = std::move(socket);
            std::erase_if(links, [](const auto& w) { return w.expired(); });
            links.push_back(l);
            asio::co_spawn(ioc, serve(l), asio::detached);
        }
    }

    asio::awaitable<void> serve(std::shared_ptr<link> l)
    {
        auto [ec] = co_await l->server.async_connect({asio::ip::make_address("127.0.0.1"), upstream},
                                                     as_tuple(use_awaitable));
        if (ec) {
            l->reset();
            co_return;
        }
        asio::co_spawn(ioc, pump(l, l->server, l->client, false), asio::detached);
        co_await pump(l, l->client, l->server, true);
    }

    asio::awaitable<void> pump(std::shared_ptr<link> l, tcp::socket& from, tcp::socket& to, bool from_client)
    {
        std::array<char, 16384> buf;
        bool first = from_client;
        asio::steady_timer timer(ioc);
        for (;;) {
            auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), as_tuple(use_awaitable));
            if (rec) break;
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
            auto [wec, written] = co_await asio::async_write(to, asio::buffer(buf.data(), n), as_tuple(use_awaitable));
            if (wec) break;
        }
        // One side ended: end both (a half-open link would hide the failure).
        l->reset();
    }

    template <class F>
    void on_io_thread(F f)
    {
        std::promise<void> done;
        asio::post(ioc, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }
};

tcp_proxy::tcp_proxy(std::uint16_t upstream_port) : impl_(std::make_shared<impl>())
{
    auto& d = *impl_;
    d.upstream = upstream_port;
    tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
    d.acceptor.open(ep.protocol());
    d.acceptor.set_option(tcp::acceptor::reuse_address(true));
    d.acceptor.bind(ep);
    d.acceptor.listen();
    asio::co_spawn(d.ioc, d.accept_loop(), asio::detached);
    d.thread = std::thread([&d] { d.ioc.run(); });
}

tcp_proxy::~tcp_proxy()
{
    auto& d = *impl_;
    d.on_io_thread([&] {
        boost::system::error_code ec;
        d.acceptor.close(ec);
        for (auto& w : d.links)
            if (auto l = w.lock()) l->reset();
    });
    d.ioc.stop();
    d.thread.join();
}

std::uint16_t tcp_proxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void tcp_proxy::cut()
{
    auto& d = *impl_;
    d.on_io_thread([&] {
        for (auto& w : d.links)
            if (auto l = w.lock()) l->reset();
    });
}

void tcp_proxy::set_refusing(bool refusing) { impl_->refusing = refusing; }
void tcp_proxy::set_delay(std::chrono::milliseconds delay) { impl_->delay_ms = delay.count(); }
void tcp_proxy::set_block_websocket(bool block) { impl_->block_websocket = block; }
void tcp_proxy::set_stalled(bool stalled) { impl_->stalled = stalled; }

std::size_t tcp_proxy::open_connections() const
{
    auto& d = *impl_;
    std::size_t n = 0;
    const_cast<impl&>(d).on_io_thread([&] {
        for (auto& w : d.links)
            if (auto l = w.lock(); l && l->client.is_open()) ++n;
    });
    return n;
}

std::size_t tcp_proxy::accepted() const { return impl_->accepted; }
std::size_t tcp_proxy::websocket_blocked() const { return impl_->blocked; }

} // namespace it
