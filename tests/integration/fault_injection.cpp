// Fault injection: registers reach the server through a relay
// (incsync/testing/tcp_proxy.hpp) that resets, drops, truncates and delays
// their connections at random while an admin writes. Once the faults stop,
// every register holds exactly its store's view, and when the registers
// stop the server holds no session of theirs.
#include "harness.hpp"
#include "registers.hpp"

#include <incsync/testing/tcp_proxy.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace integration_fault_injection_test {

using namespace it;
using namespace incsync;
using testing::fault_plan;
using testing::tcp_proxy;

/// The server of these tests: no rate limit (the admin writer is fast).
void unlimited(incsync::beast::server_options& o) { o.rate = {}; }

/// An admin making random creates, updates and deletes of global types
/// (products, categories, global settings) and store types (tables,
/// document prefixes, store settings) of stores 1 and 2, over HTTP.
class random_writer {
public:
    random_writer(http_client& admin, std::uint64_t seed) : admin_(admin), rng_(seed) {}

    void write()
    {
        ++n_;
        const auto pick = rng_() % 14;
        if (pick < 4) product();
        else if (pick < 6) category();
        else if (pick < 9) table();
        else if (pick < 12) setting();
        else prefix();
    }

    int failures() const { return failures_; }

private:
    std::string n() const { return std::to_string(n_); }
    std::string store() { return std::to_string(1 + rng_() % 2); }

    std::int64_t pick(const std::vector<std::int64_t>& ids) { return ids[rng_() % ids.size()]; }

    void expect(const http_reply& r, unsigned status, std::string_view what)
    {
        if (r.status == status) return;
        ++failures_;
        BOOST_TEST(r.status == status, what << ": " << r.status << ' ' << r.failure << r.body());
    }

    void created(std::vector<std::int64_t>& ids, std::string_view path, std::string body)
    {
        if (auto id = create(admin_, path, std::move(body))) ids.push_back(id);
        else ++failures_;
    }

    void patch(std::string_view path, std::int64_t id, std::string body)
    {
        expect(admin_.send(http::verb::patch, "/api/v1/" + std::string(path) + "/" + std::to_string(id), std::move(body)),
               200, "PATCH");
    }

    void remove(std::vector<std::int64_t>& ids, std::string_view path)
    {
        const auto k = rng_() % ids.size();
        expect(admin_.send(http::verb::delete_, "/api/v1/" + std::string(path) + "/" + std::to_string(ids[k])), 204,
               "DELETE");
        ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(k));
    }

    void product()
    {
        const auto r = rng_() % 4;
        if (r == 0 || products_.empty())
            created(products_, "products", R"({"name":"P)" + n() + R"(","price_cents":)" + std::to_string(rng_() % 900) + "}");
        else if (r < 3) patch("products", pick(products_), R"({"price_cents":)" + std::to_string(rng_() % 9000) + "}");
        else remove(products_, "products");
    }

    void category()
    {
        const auto r = rng_() % 3;
        if (r == 0 || categories_.empty()) created(categories_, "categories", R"({"name":"C)" + n() + R"("})");
        else if (r == 1) patch("categories", pick(categories_), R"({"description":"d)" + n() + R"("})");
        else remove(categories_, "categories");
    }

    void table()
    {
        const auto r = rng_() % 4;
        if (r < 2 || tables_.empty()) created(tables_, "tables", R"({"name":"T)" + n() + R"(","store_id":)" + store() + "}");
        else if (r == 2) patch("tables", pick(tables_), R"({"seats":)" + std::to_string(1 + rng_() % 12) + "}");
        else remove(tables_, "tables");
    }

    void setting()
    {
        const auto r = rng_() % 4;
        const std::string where = rng_() % 3 == 0 ? std::string("null") : store();
        if (r < 2 || settings_.empty())
            created(settings_, "settings", R"({"key":"k)" + n() + R"(","value":"v","store_id":)" + where + "}");
        else if (r == 2) patch("settings", pick(settings_), R"({"value":"v)" + n() + R"("})");
        else remove(settings_, "settings");
    }

    void prefix()
    {
        if (prefixes_.empty() || rng_() % 2)
            created(prefixes_, "document-prefixes",
                    R"({"store_id":)" + store() + R"(,"document_type":"invoice","prefix":"F)" + n() + R"("})");
        else patch("document-prefixes", pick(prefixes_), R"({"next_number":)" + std::to_string(rng_() % 1000) + "}");
    }

    http_client& admin_;
    std::mt19937_64 rng_;
    int n_ = 0;
    int failures_ = 0;
    std::vector<std::int64_t> products_, categories_, tables_, settings_, prefixes_;
};

/// The far end of the relay in the relay's own test: accepts connections
/// and records, for each in the order accepted, the bytes that arrived and
/// how it ended.
class sink {
public:
    struct arrival {
        std::string bytes;
        bool ended = false;
        bool reset = false; ///< ended by an RST (else by a FIN)
    };

    sink()
    {
        const boost::asio::ip::tcp::endpoint ep{boost::asio::ip::make_address("127.0.0.1"), 0};
        acceptor_.open(ep.protocol());
        acceptor_.bind(ep);
        acceptor_.listen();
        boost::asio::co_spawn(ioc_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }

    ~sink()
    {
        ioc_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    /// Connection `i` (0: the first accepted) once `done(arrival)` holds, or
    /// as it is at the deadline.
    template <class Pred>
    arrival wait_for(std::size_t i, Pred done)
    {
        auto now = [&] {
            std::lock_guard lock(mutex_);
            return i < arrivals_.size() ? arrivals_[i] : arrival{};
        };
        (void)wait_until([&] { return done(now()); });
        return now();
    }

    arrival wait_ended(std::size_t i)
    {
        return wait_for(i, [](const arrival& a) { return a.ended; });
    }

private:
    boost::asio::awaitable<void> accept_loop()
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(use_awaitable));
            if (ec) co_return;
            std::size_t i = 0;
            {
                std::lock_guard lock(mutex_);
                i = arrivals_.size();
                arrivals_.emplace_back();
            }
            boost::asio::co_spawn(ioc_, read_all(std::move(socket), i), boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> read_all(boost::asio::ip::tcp::socket socket, std::size_t i)
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        std::array<char, 4096> buf;
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(boost::asio::buffer(buf), as_tuple(use_awaitable));
            std::lock_guard lock(mutex_);
            auto& a = arrivals_[i];
            a.bytes.append(buf.data(), n);
            if (ec) {
                a.ended = true;
                a.reset = ec != boost::asio::error::eof;
                co_return;
            }
        }
    }

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_{ioc_};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<arrival> arrivals_;
};

bool all_on_websocket(const std::vector<std::unique_ptr<register_client>>& registers)
{
    return std::all_of(registers.begin(), registers.end(),
                       [](const auto& r) { return r->status().realtime == client::channel::websocket; });
}

BOOST_AUTO_TEST_SUITE(fault_injection_suite)

BOOST_AUTO_TEST_CASE(the_relay_resets_drops_truncates_and_delays_as_planned_and_counts_each)
{
    sink far;
    tcp_proxy proxy(far.port());
    const std::string message = "0123456789abcdefghij"; // one chunk: one write on loopback

    // Reset: nothing forwarded, an RST to both sides.
    proxy.set_faults({.reset = 1, .seed = 1});
    {
        raw_client c(proxy.port());
        BOOST_TEST_REQUIRE(c.write(message));
        BOOST_TEST(c.read_until_close());
        BOOST_TEST(c.received().empty());
    }
    auto a = far.wait_ended(0);
    BOOST_TEST(a.ended);
    BOOST_TEST(a.reset);
    BOOST_TEST(a.bytes.empty());

    // Drop: nothing forwarded, a FIN to both sides.
    proxy.set_faults({.drop = 1, .seed = 2});
    {
        raw_client c(proxy.port());
        BOOST_TEST_REQUIRE(c.write(message));
        BOOST_TEST(c.read_until_close());
    }
    a = far.wait_ended(1);
    BOOST_TEST(a.ended);
    BOOST_TEST(!a.reset);
    BOOST_TEST(a.bytes.empty());

    // Truncate: a proper prefix forwarded, then a FIN to both sides.
    proxy.set_faults({.truncate = 1, .seed = 3});
    {
        raw_client c(proxy.port());
        BOOST_TEST_REQUIRE(c.write(message));
        BOOST_TEST(c.read_until_close());
    }
    a = far.wait_ended(2);
    BOOST_TEST(a.ended);
    BOOST_TEST(!a.reset);
    BOOST_TEST(!a.bytes.empty());
    BOOST_TEST(a.bytes.size() < message.size());
    BOOST_TEST(message.starts_with(a.bytes), a.bytes);

    // Delay: held, then forwarded whole; the connection stays up.
    proxy.set_faults({.delay = 1, .max_delay = std::chrono::milliseconds(30), .seed = 4});
    {
        raw_client c(proxy.port());
        BOOST_TEST_REQUIRE(c.write(message));
        a = far.wait_for(3, [&](const sink::arrival& x) { return x.bytes == message; });
        BOOST_TEST(a.bytes == message);
        BOOST_TEST(!a.ended);
    }

    // Faults off: carried whole, nothing more counted.
    proxy.set_faults({});
    {
        raw_client c(proxy.port());
        BOOST_TEST_REQUIRE(c.write(message));
        a = far.wait_for(4, [&](const sink::arrival& x) { return x.bytes == message; });
        BOOST_TEST(a.bytes == message);
    }
    const auto n = proxy.faults();
    BOOST_TEST(n.reset == 1u);
    BOOST_TEST(n.dropped == 1u);
    BOOST_TEST(n.truncated == 1u);
    BOOST_TEST(n.delayed == 1u);
    BOOST_TEST(n.ended() == 3u);
    BOOST_TEST(wait_until([&] { return proxy.open_connections() == 0; }));
}

// Regression: past `fallback_after` failed WebSocket tries a register long-
// polls; when the long poll failed at once too (no server), it tried the
// WebSocket again without any pause, round and round: thousands of
// connection attempts a second per register, and every register of a
// restarted server back in the same instant.
BOOST_AUTO_TEST_CASE(a_register_that_cannot_reach_the_server_backs_off_instead_of_spinning)
{
    server_fixture server(unlimited);
    tcp_proxy proxy(server.port());
    proxy.set_refusing(true); // every connection accepted, then reset: the server is out of reach
    register_client a(proxy.port(), std::string(till_1), 1, 1, [](client::client_options& o) {
        o.retry_initial = o.retry_max = std::chrono::seconds(1); // pulls: about one try per type and second
    });
    BOOST_TEST_REQUIRE(wait_until([&] { return a.status().started && !a.status().online; }));
    // WebSocket and long-poll tries back off to 300 ms (about 2 x 13 in 2 s),
    // the 12 types' pulls retry every 0.5..1 s (24..48): well under 150.
    const auto before = proxy.accepted();
    const auto since = steady::now();
    const bool spun = wait_until([&] { return proxy.accepted() > before + 150; }, 2s);
    const auto attempts = proxy.accepted() - before;
    const auto took = std::chrono::duration_cast<duration>(steady::now() - since).count();
    BOOST_TEST(!spun, attempts << " connection attempts in " << took << " ms");
    BOOST_TEST_MESSAGE("unreachable server: " << attempts << " connection attempts in " << took << " ms");
    proxy.set_refusing(false);
    BOOST_TEST(wait_until([&] { return a.status().realtime == client::channel::websocket; }));
    BOOST_TEST(wait_until([&] { return converged(a, server.store, 1); }));
}

BOOST_AUTO_TEST_CASE(registers_converge_through_random_resets_drops_truncations_and_delays)
{
    server_fixture server(unlimited);
    server.seed(20);
    tcp_proxy proxy(server.port());
    std::vector<std::unique_ptr<register_client>> registers;
    for (std::int64_t i = 0; i < 20; ++i) {
        const std::int64_t store = 1 + i % 2;
        registers.push_back(std::make_unique<register_client>(proxy.port(), std::string(store == 1 ? till_1 : till_2),
                                                              store, i + 1));
    }
    BOOST_TEST_REQUIRE(wait_until([&] { return all_on_websocket(registers); }, 10s));

    // Per chunk: 2 % reset, 2 % dropped, 2 % truncated; 25 % held up to 25 ms.
    proxy.set_faults({.reset = 0.02, .drop = 0.02, .truncate = 0.02, .delay = 0.25,
                      .max_delay = std::chrono::milliseconds(25), .seed = 20260107});
    testing::fault_counts faults;
    {
        auto admin = server.http(); // the admin reaches the server directly
        random_writer writer(admin, 4242);
        for (int i = 0; i < 400; ++i) {
            writer.write();
            // Pacing, not synchronization: spread the writes over about 4 s
            // so that faults meet registers in every state (pulling,
            // connecting, long-polling, idle).
            std::this_thread::sleep_for(10ms);
        }
        faults = proxy.faults();
        proxy.set_faults({});
        // A last burst with the faults off.
        for (int i = 0; i < 60; ++i) writer.write();
        BOOST_TEST(writer.failures() == 0);
    } // the admin's connection closes: from here on only the registers hold sessions
    BOOST_TEST_MESSAGE("faults injected: " << faults.reset << " resets, " << faults.dropped << " drops, "
                       << faults.truncated << " truncations, " << faults.delayed << " delays; "
                       << proxy.accepted() << " connections accepted");
    BOOST_TEST(faults.reset >= 5u);
    BOOST_TEST(faults.dropped >= 5u);
    BOOST_TEST(faults.truncated >= 5u);
    BOOST_TEST(faults.delayed >= 50u);

    // Every register holds its store's view.
    const auto since = steady::now();
    for (std::size_t i = 0; i < registers.size(); ++i) {
        const std::int64_t store = 1 + static_cast<std::int64_t>(i) % 2;
        BOOST_TEST(wait_until([&] { return converged(*registers[i], server.store, store); }, 20s), "register " << i + 1);
    }
    BOOST_TEST_MESSAGE("converged " << std::chrono::duration_cast<duration>(steady::now() - since).count()
                       << " ms after the last write");
    std::uint64_t reconnects = 0;
    for (const auto& r : registers) reconnects += r->status().reconnects;
    BOOST_TEST(reconnects > 0u);
    BOOST_TEST_MESSAGE("reconnects: " << reconnects);

    // The registers stop: their connections end, and the server keeps no session.
    registers.clear();
    BOOST_TEST(wait_until([&] { return proxy.open_connections() == 0; }, 5s), proxy.open_connections());
    BOOST_TEST(server.wait_for_stats([](const incsync::beast::server_stats& s) {
        return s.sessions == 0 && s.http_connections == 0 && s.websocket_connections == 0 && s.long_polls == 0;
    }, 10s), "sessions left: " << server.stats().sessions << ", WebSockets " << server.stats().websocket_connections
                << ", HTTP " << server.stats().http_connections << ", long polls " << server.stats().long_polls);
    const auto st = server.stats();
    BOOST_TEST_MESSAGE("server: " << st.accepted << " connections accepted, " << st.requests << " requests, "
                       << st.sessions << " sessions left");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace integration_fault_injection_test
