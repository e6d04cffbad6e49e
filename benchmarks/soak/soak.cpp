// Soak: an incsync-pos-server child process under N WebSocket registers (the
// library's sync_client over beast_transport, memory replicas, stores 1 and
// 2 in turn) for a bounded time, with steady admin writes, the pulls their
// notifications trigger, and periodic churn (a share of the registers
// stopped and started again over the replica they had, as a register
// restarting does). It fails (exit status 1) on:
//   - server RSS growth after warm-up beyond the bound (--rss-bound-*):
//     growth is the largest VmRSS sample after warm-up minus the sample at
//     the end of warm-up;
//   - a lost notification-triggered convergence: at each check (every
//     --check-every seconds and at the end) writes pause and every running
//     register must hold exactly the server's view of its store within
//     --converge-within seconds, from notifications alone (nothing asks it to
//     pull);
//   - any HTTP status a register or the admin got other than 2xx, 304 and
//     the WebSocket upgrade's 101. Rate limiting is off (--rate-limit 0) and
//     the per-address cap too (--max-connections-per-ip 0: every register
//     comes from 127.0.0.1), so no 429 is intended and any 429 is a failure;
//   - the server exiting early.
// and prints the figures: clients, writes, pulls, notifications, checks,
// RSS (start, after warm-up, max, end, growth, bound), statuses.
//
// Usage: incsync-soak SERVER_BINARY [--duration S (300)] [--clients N (1000)]
//          [--writes-per-second W (20)] [--churn-every S (5)] [--churn-percent P (5)]
//          [--check-every S (30)] [--converge-within S (30)] [--warmup-percent P (20)]
//          [--rss-bound-percent P (10)] [--rss-bound-mib M (16)] [--threads T (1)]
//          [--seed N (1)]
// Loopback only. CI runs it with --duration 60 (benchmarks/soak/run.sh).
#include <incsync/client/beast_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/codec.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/pos/entities.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace client = incsync::client;
namespace pos = incsync::pos;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view usage = R"(usage: incsync-soak SERVER_BINARY [options]
  --duration S            run for S seconds (default 300; CI: 60)
  --clients N             WebSocket registers (default 1000), stores 1 and 2 in turn
  --writes-per-second W   admin writes (default 20)
  --churn-every S         every S seconds (default 5) ...
  --churn-percent P       ... stop P % of the registers (default 5) and start them again 1 s later
  --check-every S         pause writes and check convergence every S seconds (default 30), and at the end
  --converge-within S     how long a check waits for every register (default 30)
  --warmup-percent P      RSS growth is measured after the first P % of the run (default 20)
  --rss-bound-percent P   allowed growth: the larger of P % of the RSS after warm-up (default 10) ...
  --rss-bound-mib M       ... and M MiB (default 16)
  --threads T             client I/O threads (default 1)
  --seed N                writes and churn (default 1)
)";

struct config {
    std::string server;
    double duration = 300;
    std::size_t clients = 1000;
    double writes_per_second = 20;
    double churn_every = 5;
    double churn_percent = 5;
    double check_every = 30;
    double converge_within = 30;
    double warmup_percent = 20;
    double rss_bound_percent = 10;
    double rss_bound_mib = 16;
    unsigned threads = 1;
    std::uint64_t seed = 1;
};

std::optional<double> to_number(std::string_view s)
{
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

std::optional<config> parse_args(int argc, char** argv)
{
    config c;
    if (argc < 2 || std::string_view(argv[1]).starts_with("-")) return std::nullopt;
    c.server = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto v = i + 1 < argc ? to_number(argv[++i]) : std::nullopt;
        if (!v) return std::nullopt;
        if (arg == "--duration") c.duration = *v;
        else if (arg == "--clients") c.clients = static_cast<std::size_t>(*v);
        else if (arg == "--writes-per-second") c.writes_per_second = *v;
        else if (arg == "--churn-every") c.churn_every = *v;
        else if (arg == "--churn-percent") c.churn_percent = *v;
        else if (arg == "--check-every") c.check_every = *v;
        else if (arg == "--converge-within") c.converge_within = *v;
        else if (arg == "--warmup-percent") c.warmup_percent = *v;
        else if (arg == "--rss-bound-percent") c.rss_bound_percent = *v;
        else if (arg == "--rss-bound-mib") c.rss_bound_mib = *v;
        else if (arg == "--threads") c.threads = std::max(1u, static_cast<unsigned>(*v));
        else if (arg == "--seed") c.seed = static_cast<std::uint64_t>(*v);
        else return std::nullopt;
    }
    if (c.duration <= 0 || c.clients == 0) return std::nullopt;
    return c;
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

/// Violations, printed as they happen (the first few of each kind) and counted.
class violations {
public:
    void add(const std::string& kind, const std::string& what)
    {
        std::lock_guard lock(mutex_);
        if (++counts_[kind] <= 5) std::cerr << "incsync-soak: VIOLATION " << kind << ": " << what << std::endl;
    }
    std::map<std::string, std::uint64_t> counts() const
    {
        std::lock_guard lock(mutex_);
        return counts_;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> counts_;
};

// ---- the server ------------------------------------------------------------------

/// The server under test, a child process; its standard error is ours.
class server_process {
public:
    explicit server_process(const config& c)
    {
        std::vector<std::string> args = {c.server,         "--port",           "0",          "--quiet",
                                         "--rate-limit",   "0",                "--demo-data", "--demo-products",
                                         "50",             "--admin-token",    "soak-admin", "--register-token",
                                         "soak-1:1",       "--register-token", "soak-2:2",   "--web-root",
                                         ""};
        cap_flag_ = help_mentions(c.server, "--max-connections-per-ip");
        if (cap_flag_) {
            args.push_back("--max-connections-per-ip");
            args.push_back("0");
        }
        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, c.server.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        close(out[1]);
        if (rc != 0) {
            close(out[0]);
            throw std::runtime_error("cannot start " + c.server);
        }
        std::string text;
        char buf[256];
        const std::string marker = "listening on 127.0.0.1:";
        while (text.find('\n', text.find(marker)) == std::string::npos || text.find(marker) == std::string::npos) {
            const auto n = read(out[0], buf, sizeof buf);
            if (n <= 0) {
                close(out[0]);
                throw std::runtime_error("the server did not start");
            }
            text.append(buf, static_cast<std::size_t>(n));
        }
        port_ = static_cast<std::uint16_t>(std::stoi(text.substr(text.find(marker) + marker.size())));
        stdout_ = out[0]; // kept open: the server prints a last line when it stops
    }

    ~server_process() { stop(); }

    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    std::uint16_t port() const { return port_; }
    bool cap_flag() const { return cap_flag_; }

    bool running()
    {
        if (pid_ <= 0) return false;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            exit_status_ = status;
            return false;
        }
        return true;
    }

    /// SIGTERM and wait; the exit status (-1 if it was gone already).
    int stop()
    {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
            pid_ = -1;
            exit_status_ = status;
        }
        if (stdout_ >= 0) {
            close(stdout_);
            stdout_ = -1;
        }
        return exit_status_;
    }

    /// VmRSS in KiB (0 when unreadable).
    long rss_kib() const
    {
        std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(f, line);)
            if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
        return 0;
    }

private:
    static bool help_mentions(const std::string& binary, const std::string& flag)
    {
        const std::string command = "'" + binary + "' --help 2>&1";
        FILE* p = popen(command.c_str(), "r");
        if (!p) return false;
        std::string text;
        char buf[512];
        while (auto n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
        pclose(p);
        return text.find(flag) != std::string::npos;
    }

    pid_t pid_ = -1;
    int stdout_ = -1;
    int exit_status_ = -1;
    std::uint16_t port_ = 0;
    bool cap_flag_ = false;
};

// ---- HTTP status counting --------------------------------------------------------

/// Every HTTP status the registers got, and exchanges that got none.
struct status_counts {
    std::array<std::atomic<std::uint64_t>, 600> by_status{};
    std::atomic<std::uint64_t> no_answer{0};

    void count(unsigned status)
    {
        if (status == 0) ++no_answer;
        else ++by_status[std::min<unsigned>(status, 599)];
    }
};

/// `beast_transport`, counting the statuses of every answer: the hook that
/// sees what the registers see. Models `incsync::client::transport`.
class counting_transport {
public:
    using stream_type = client::beast_stream;

    counting_transport(client::server_url url, client::beast_transport_options o, status_counts& counts)
        : inner_(std::move(url), std::move(o)), counts_(counts) {}

    asio::awaitable<client::http_result> get(std::string target, const client::request_options& o)
    {
        auto r = co_await inner_.get(std::move(target), o);
        counts_.count(r.status);
        co_return r;
    }

    asio::awaitable<client::http_result> post(std::string target, std::string json, const client::request_options& o)
    {
        auto r = co_await inner_.post(std::move(target), std::move(json), o);
        counts_.count(r.status);
        co_return r;
    }

    asio::awaitable<client::stream_open<stream_type>> open_stream(std::string target, const client::request_options& o)
    {
        auto r = co_await inner_.open_stream(std::move(target), o);
        counts_.count(r.stream ? 101 : r.refusal.status);
        co_return r;
    }

    void cancel_idle() noexcept { inner_.cancel_idle(); }
    void cancel_all() noexcept { inner_.cancel_all(); }

private:
    client::beast_transport inner_;
    status_counts& counts_;
};

static_assert(client::transport<counting_transport>);

using replica_t = incsync::memory::client_store<pos::entities>;
using client_t = client::sync_client<replica_t, counting_transport>;

// ---- the admin -------------------------------------------------------------------

/// A blocking HTTP/1.1 keep-alive client for the admin's writes and reads.
class admin_client {
public:
    explicit admin_client(std::uint16_t port) : port_(port) {}

    struct reply {
        unsigned status = 0;
        std::string body;
    };

    reply send(http::verb verb, const std::string& target, std::string body = {})
    {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer soak-admin");
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
        req.prepare_payload();
        for (int attempt = 0; attempt < 2; ++attempt) { // once more on a fresh connection
            if (!stream_ && !connect()) return {};
            boost::system::error_code ec;
            stream_->expires_after(10s);
            http::write(*stream_, req, ec);
            http::response<http::string_body> res;
            if (!ec) http::read(*stream_, buffer_, res, ec);
            if (ec) {
                stream_.reset();
                buffer_.clear();
                continue;
            }
            if (!res.keep_alive()) stream_.reset();
            return {res.result_int(), std::move(res.body())};
        }
        return {};
    }

private:
    bool connect()
    {
        stream_.emplace(ioc_);
        boost::system::error_code ec;
        stream_->expires_after(5s);
        stream_->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
        if (ec) stream_.reset();
        return stream_.has_value();
    }

    std::uint16_t port_;
    asio::io_context ioc_;
    std::optional<boost::beast::tcp_stream> stream_;
    boost::beast::flat_buffer buffer_;
};

/// Random creates, updates and deletes of global types (products,
/// categories, global settings) and store types (tables, document
/// prefixes, store settings), each pool kept near a target size so that
/// the data stays bounded and RSS growth means something.
class writer {
public:
    writer(std::uint16_t port, std::uint64_t seed, violations& v) : admin_(port), rng_(seed), violations_(v) {}

    std::uint64_t writes() const { return writes_; }
    std::map<unsigned, std::uint64_t> statuses() const
    {
        std::lock_guard lock(mutex_);
        return statuses_;
    }

    void write()
    {
        const auto pick = rng_() % 10;
        if (pick < 3) write_in(products_, "products", [&] {
            return R"({"name":"Soak )" + n() + R"(","price_cents":)" + std::to_string(rng_() % 900) + "}";
        }, [&] { return R"({"price_cents":)" + std::to_string(rng_() % 9000) + "}"; });
        else if (pick < 4) write_in(categories_, "categories", [&] { return R"({"name":"C)" + n() + R"("})"; },
                                    [&] { return R"({"description":"d)" + n() + R"("})"; });
        else if (pick < 7) write_in(tables_, "tables", [&] {
            return R"({"name":"T)" + n() + R"(","store_id":)" + store() + "}";
        }, [&] { return R"({"seats":)" + std::to_string(1 + rng_() % 12) + "}"; });
        else if (pick < 9) write_in(settings_, "settings", [&] {
            return R"({"key":"k)" + n() + R"(","value":"v","store_id":)" + (rng_() % 3 ? store() : std::string("null")) + "}";
        }, [&] { return R"({"value":"v)" + n() + R"("})"; });
        else write_in(prefixes_, "document-prefixes", [&] {
            return R"({"store_id":)" + store() + R"(,"document_type":"invoice","prefix":"F)" + n() + R"("})";
        }, [&] { return R"({"next_number":)" + std::to_string(rng_() % 1000) + "}"; });
        ++writes_;
    }

    /// The server's records of every type as a register of `store` sees them.
    template <class Tuple>
    bool view(std::int64_t store, Tuple& out)
    {
        bool ok = true;
        incsync::for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
            auto& list = std::get<std::vector<E>>(out);
            list.clear();
            auto r = admin_.send(http::verb::get, "/api/v1/" + std::string(incsync::entity_path<E>)
                                                      + "?store_id=" + std::to_string(store));
            boost::system::error_code ec;
            auto jv = boost::json::parse(r.body, ec);
            if (r.status != 200 || ec || !jv.is_array()) {
                ok = false;
                return;
            }
            for (const auto& item : jv.as_array()) {
                auto v = incsync::from_json<E>(item, incsync::lenient_decode);
                if (!v) {
                    ok = false;
                    return;
                }
                list.push_back(std::move(*v));
            }
            std::sort(list.begin(), list.end(), [](const E& a, const E& b) { return a.id < b.id; });
        });
        return ok;
    }

private:
    static constexpr std::size_t target = 40; // records per pool

    std::string n() { return std::to_string(writes_); }
    std::string store() { return std::to_string(1 + rng_() % 2); }

    template <class Create, class Patch>
    void write_in(std::vector<std::int64_t>& ids, std::string_view path, Create create, Patch patch)
    {
        const auto r = rng_() % 10;
        const std::string base = "/api/v1/" + std::string(path);
        if (ids.empty() || (ids.size() < target && r < 5)) {
            auto reply = admin_.send(http::verb::post, base, create());
            note(reply.status, 201, "POST " + base, reply.body);
            if (reply.status == 201) {
                boost::system::error_code ec;
                auto jv = boost::json::parse(reply.body, ec);
                if (!ec && jv.is_object() && jv.as_object().contains("id"))
                    ids.push_back(jv.as_object().at("id").template to_number<std::int64_t>());
            }
        } else if (ids.size() >= target && r < 4) {
            const auto k = rng_() % ids.size();
            auto reply = admin_.send(http::verb::delete_, base + "/" + std::to_string(ids[k]));
            note(reply.status, 204, "DELETE " + base, reply.body);
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(k));
        } else {
            const auto id = ids[rng_() % ids.size()];
            auto reply = admin_.send(http::verb::patch, base + "/" + std::to_string(id), patch());
            note(reply.status, 200, "PATCH " + base, reply.body);
        }
    }

    void note(unsigned status, unsigned expected, const std::string& what, const std::string& body)
    {
        {
            std::lock_guard lock(mutex_);
            ++statuses_[status];
        }
        if (status != expected)
            violations_.add("admin_status", what + ": " + std::to_string(status) + " " + body.substr(0, 200));
    }

    admin_client admin_;
    std::mt19937_64 rng_;
    violations& violations_;
    std::atomic<std::uint64_t> writes_{0};
    mutable std::mutex mutex_;
    std::map<unsigned, std::uint64_t> statuses_;
    std::vector<std::int64_t> products_, categories_, tables_, settings_, prefixes_;
};

// ---- the registers ---------------------------------------------------------------

template <class E>
using list_of = std::vector<E>;
using view_t = boost::mp11::mp_rename<boost::mp11::mp_transform<list_of, pos::entities>, std::tuple>;

bool holds(const replica_t& r, const view_t& view)
{
    bool ok = true;
    incsync::for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        if (!ok) return;
        auto all = r.all<E>();
        ok = all && *all == std::get<std::vector<E>>(view);
    });
    return ok;
}

/// Counters of a register's earlier incarnations (before churn restarted it).
struct tally {
    std::uint64_t notifications = 0, skipped = 0, pulls = 0, reconnects = 0;

    void add(const client::sync_status& s)
    {
        notifications += s.notifications;
        skipped += s.notifications_skipped;
        reconnects += s.reconnects;
        for (const auto& t : s.types) pulls += t.pulls;
    }
};

class fleet {
public:
    fleet(std::uint16_t port, const config& c, status_counts& counts)
        : port_(port), counts_(counts), work_(ioc_.get_executor())
    {
        for (std::size_t i = 0; i < c.clients; ++i) {
            auto r = std::make_unique<reg>();
            r->id = static_cast<std::int64_t>(i + 1);
            r->store = 1 + static_cast<std::int64_t>(i % 2);
            registers_.push_back(std::move(r));
        }
        for (unsigned t = 0; t < c.threads; ++t) threads_.emplace_back([this] { ioc_.run(); });
        for (auto& r : registers_) start(*r);
    }

    ~fleet()
    {
        for (auto& r : registers_)
            if (r->client) r->client->stop();
        for (auto& r : registers_) r->client.reset();
        work_.reset();
        for (auto& t : threads_) t.join();
    }

    std::size_t size() const { return registers_.size(); }

    /// Stops `share` of the running registers, chosen at random.
    std::size_t stop_some(double share, std::mt19937_64& rng)
    {
        std::vector<std::size_t> running;
        for (std::size_t i = 0; i < registers_.size(); ++i)
            if (registers_[i]->client && !registers_[i]->stopping) running.push_back(i);
        std::shuffle(running.begin(), running.end(), rng);
        const auto n = std::min(running.size(), static_cast<std::size_t>(double(registers_.size()) * share + 0.5));
        for (std::size_t k = 0; k < n; ++k) {
            auto& r = *registers_[running[k]];
            r.client->stop();
            r.stopping = true;
            r.stopped_at = clock_type::now();
        }
        stopped_ += n;
        return n;
    }

    /// Starts again the registers stopped at least `pause` ago whose client
    /// has shut down (the replica is then no longer written by it).
    void restart_stopped(clock_type::duration pause)
    {
        for (auto& rp : registers_) {
            auto& r = *rp;
            if (!r.stopping || clock_type::now() - r.stopped_at < pause) continue;
            const auto st = r.client->status();
            if (st.started) continue; // its shutdown has not run yet
            r.past.add(st);
            r.client.reset();
            // The old client's last coroutines may still be in its transport:
            // the new one gets its own; the old one is freed at the end.
            graveyard_.push_back(std::move(r.transport));
            start(r);
            r.stopping = false;
            ++restarted_;
        }
    }

    /// Running registers that hold exactly their store's view.
    struct check_result {
        std::size_t running = 0, converged = 0;
    };
    check_result converged(const view_t& store1, const view_t& store2, std::vector<bool>& done) const
    {
        check_result out;
        done.resize(registers_.size(), false);
        for (std::size_t i = 0; i < registers_.size(); ++i) {
            const auto& r = *registers_[i];
            if (!r.client || r.stopping) continue;
            ++out.running;
            if (!done[i]) {
                const auto st = r.client->status();
                done[i] = st.online && st.pending == 0 && !st.syncing() && holds(*r.replica, r.store == 1 ? store1 : store2);
            }
            if (done[i]) ++out.converged;
        }
        return out;
    }

    std::vector<std::int64_t> not_converged(const std::vector<bool>& done) const
    {
        std::vector<std::int64_t> ids;
        for (std::size_t i = 0; i < registers_.size(); ++i)
            if (registers_[i]->client && !registers_[i]->stopping && !done[i]) ids.push_back(registers_[i]->id);
        return ids;
    }

    tally totals() const
    {
        tally t;
        for (const auto& r : registers_) {
            t.notifications += r->past.notifications;
            t.skipped += r->past.skipped;
            t.pulls += r->past.pulls;
            t.reconnects += r->past.reconnects;
            if (r->client) t.add(r->client->status());
        }
        return t;
    }

    std::size_t on_websocket() const
    {
        std::size_t n = 0;
        for (const auto& r : registers_)
            if (r->client && r->client->status().realtime == client::channel::websocket) ++n;
        return n;
    }

    std::uint64_t churned() const { return stopped_; }
    std::uint64_t restarted() const { return restarted_; }

private:
    struct reg {
        std::int64_t id = 0;
        std::int64_t store = 1;
        std::unique_ptr<replica_t> replica = std::make_unique<replica_t>();
        std::unique_ptr<counting_transport> transport;
        std::unique_ptr<client_t> client;
        bool stopping = false;
        clock_type::time_point stopped_at;
        tally past;
    };

    void start(reg& r)
    {
        client::beast_transport_options t;
        t.max_idle_connections = 2; // N registers' sockets in one process
        r.transport = std::make_unique<counting_transport>(
            client::server_url{"127.0.0.1", std::to_string(port_), ""}, t, counts_);
        client::client_options o;
        o.token = r.store == 1 ? "soak-1" : "soak-2";
        o.store_id = r.store;
        o.cash_register_id = r.id;
        o.max_parallel_pulls = 2;
        o.images = false; // the demo's product images are not what this measures
        r.client = std::make_unique<client_t>(ioc_.get_executor(), *r.replica, *r.transport, std::move(o));
        r.client->start();
    }

    std::uint16_t port_;
    status_counts& counts_;
    std::vector<std::unique_ptr<reg>> registers_;
    std::vector<std::unique_ptr<counting_transport>> graveyard_;
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
    std::uint64_t stopped_ = 0, restarted_ = 0;
};

// ---- RSS sampling ------------------------------------------------------------------

class rss_sampler {
public:
    rss_sampler(server_process& server, double warmup_seconds)
        : server_(server), warmup_(warmup_seconds), start_(clock_type::now()),
          thread_([this] { run(); }) {}

    ~rss_sampler() { stop(); }

    void stop()
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    struct figures {
        long start = 0, after_warmup = 0, max_after_warmup = 0, max = 0, end = 0;
        std::size_t samples = 0;
    };
    figures get() const
    {
        std::lock_guard lock(mutex_);
        return figures_;
    }

private:
    void run()
    {
        std::unique_lock lock(mutex_);
        for (;;) {
            lock.unlock();
            const long kib = server_.rss_kib();
            const double t = seconds_since(start_);
            lock.lock();
            if (kib > 0) {
                auto& f = figures_;
                if (f.samples++ == 0) f.start = kib;
                f.max = std::max(f.max, kib);
                f.end = kib;
                if (t < warmup_) f.after_warmup = kib; // the last sample of the warm-up
                else f.max_after_warmup = std::max(f.max_after_warmup, kib);
            }
            if (wake_.wait_for(lock, 1s, [this] { return stopping_; })) return;
        }
    }

    server_process& server_;
    double warmup_;
    clock_type::time_point start_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    figures figures_;
    std::thread thread_;
};

// ---- the writes' pacing --------------------------------------------------------------

/// Runs `writer.write()` `rate` times a second on its own thread, pausable.
class paced_writes {
public:
    paced_writes(writer& w, double rate) : writer_(w), rate_(rate), thread_([this] { run(); }) {}
    ~paced_writes() { stop(); }

    void stop()
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    /// Returns once no write is in flight and none will start until `resume`.
    void pause()
    {
        std::unique_lock lock(mutex_);
        paused_ = true;
        idle_.wait(lock, [this] { return !writing_; });
    }

    void resume()
    {
        {
            std::lock_guard lock(mutex_);
            paused_ = false;
        }
        wake_.notify_all();
    }

private:
    void run()
    {
        if (rate_ <= 0) return;
        const auto period = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(1.0 / rate_));
        auto next = clock_type::now();
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait_until(lock, next, [this] { return stopping_; });
            if (stopping_) return;
            if (paused_) {
                wake_.wait(lock, [this] { return stopping_ || !paused_; });
                next = clock_type::now();
                continue;
            }
            writing_ = true;
            lock.unlock();
            writer_.write();
            lock.lock();
            writing_ = false;
            idle_.notify_all();
            next = std::max(next + period, clock_type::now() - period); // behind: no burst to catch up
        }
    }

    writer& writer_;
    double rate_;
    std::mutex mutex_;
    std::condition_variable wake_, idle_;
    bool stopping_ = false, paused_ = false, writing_ = false;
    std::thread thread_;
};

void raise_open_file_limit()
{
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

std::string mib(long kib)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(kib) / 1024.0);
    return buf;
}

} // namespace

int main(int argc, char** argv)
{
    const auto parsed = parse_args(argc, argv);
    if (!parsed) {
        std::cerr << usage;
        return 2;
    }
    const config& c = *parsed;
    raise_open_file_limit();
    signal(SIGPIPE, SIG_IGN);

    violations bad;
    std::optional<server_process> server;
    try {
        server.emplace(c);
    } catch (const std::exception& e) {
        std::cerr << "incsync-soak: " << e.what() << '\n';
        return 2;
    }
    std::cout << "soak: server on 127.0.0.1:" << server->port() << ", " << c.clients << " registers, "
              << c.writes_per_second << " writes/s, " << c.duration << " s; rate limiting off, "
              << (server->cap_flag() ? "per-address cap off (--max-connections-per-ip 0)"
                                     : "no --max-connections-per-ip flag on this server")
              << std::endl;

    const auto start = clock_type::now();
    const double warmup = c.duration * c.warmup_percent / 100.0;
    rss_sampler rss(*server, warmup);
    status_counts counts;
    writer w(server->port(), c.seed, bad);
    std::mt19937_64 rng(c.seed ^ 0x5eedULL);

    std::uint64_t checks = 0, checks_failed = 0;
    double slowest_check = 0;
    std::vector<double> check_times;
    {
        fleet registers(server->port(), c, counts);
        // Everyone connected and synced before the clock of the run matters much.
        std::cout << "soak: starting " << c.clients << " registers" << std::endl;
        {
            const auto deadline = clock_type::now() + 60s;
            while (registers.on_websocket() < registers.size() && clock_type::now() < deadline)
                std::this_thread::sleep_for(100ms);
            std::cout << "soak: " << registers.on_websocket() << " on WebSocket after " << seconds_since(start)
                      << " s" << std::endl;
        }
        paced_writes writes(w, c.writes_per_second);

        // One convergence check: writes paused, every running register must
        // reach the server's view of its store from notifications alone.
        auto check = [&](const char* when) {
            writes.pause();
            const auto began = clock_type::now();
            view_t store1, store2;
            const bool have_views = w.view(1, store1) && w.view(2, store2);
            std::vector<bool> done;
            fleet::check_result r;
            if (have_views) {
                const auto deadline = began + std::chrono::duration<double>(c.converge_within);
                for (;;) {
                    r = registers.converged(store1, store2, done);
                    if (r.converged == r.running || clock_type::now() >= deadline) break;
                    std::this_thread::sleep_for(50ms);
                }
            }
            const double took = seconds_since(began);
            ++checks;
            slowest_check = std::max(slowest_check, took);
            check_times.push_back(took);
            if (!have_views) {
                ++checks_failed;
                bad.add("convergence", std::string(when) + ": could not read the server's view");
            } else if (r.converged != r.running) {
                ++checks_failed;
                std::string ids;
                for (auto id : registers.not_converged(done)) ids += (ids.empty() ? "" : ",") + std::to_string(id);
                bad.add("convergence", std::string(when) + ": " + std::to_string(r.running - r.converged) + " of "
                                           + std::to_string(r.running) + " registers not converged within "
                                           + std::to_string(c.converge_within) + " s (ids " + ids.substr(0, 200) + ")");
            }
            std::cout << "soak: t=" << static_cast<int>(seconds_since(start)) << " s check (" << when << "): "
                      << r.converged << "/" << r.running << " converged in " << took << " s" << std::endl;
            writes.resume();
        };

        auto next_churn = clock_type::now() + std::chrono::duration<double>(c.churn_every);
        auto next_check = clock_type::now() + std::chrono::duration<double>(c.check_every);
        auto next_report = clock_type::now() + 10s;
        const auto end = start + std::chrono::duration<double>(c.duration);
        while (clock_type::now() < end) {
            std::this_thread::sleep_for(100ms);
            if (!server->running()) {
                bad.add("server", "exited during the run");
                break;
            }
            registers.restart_stopped(1s);
            const auto now = clock_type::now();
            if (c.churn_every > 0 && c.churn_percent > 0 && now >= next_churn) {
                registers.stop_some(c.churn_percent / 100.0, rng);
                next_churn += std::chrono::duration<double>(c.churn_every);
            }
            if (c.check_every > 0 && now >= next_check && now + 5s < end) {
                check("periodic");
                next_check = clock_type::now() + std::chrono::duration<double>(c.check_every);
            }
            if (now >= next_report) {
                const auto t = registers.totals();
                const auto f = rss.get();
                std::cout << "soak: t=" << static_cast<int>(seconds_since(start)) << " s RSS " << mib(f.end)
                          << ", writes " << w.writes() << ", pulls " << t.pulls << ", notifications "
                          << t.notifications << ", churned " << registers.churned() << std::endl;
                next_report += 10s;
            }
        }
        // The end: churned registers back, one last check, then stop.
        const auto back_by = clock_type::now() + 10s;
        while (clock_type::now() < back_by) {
            registers.restart_stopped(0s);
            if (registers.churned() == registers.restarted()) break;
            std::this_thread::sleep_for(50ms);
        }
        if (server->running()) check("final");
        writes.stop();

        const auto t = registers.totals();
        const auto f = rss.get();
        rss.stop();
        const long bound = std::max(static_cast<long>(double(f.after_warmup) * c.rss_bound_percent / 100.0),
                                    static_cast<long>(c.rss_bound_mib * 1024));
        const long growth = f.max_after_warmup - f.after_warmup;
        if (f.samples == 0) bad.add("rss", "no sample of the server's VmRSS");
        else if (growth > bound)
            bad.add("rss", "growth after warm-up " + mib(growth) + " exceeds the bound " + mib(bound));

        std::uint64_t ok = 0, unexpected = 0, rate_limited = counts.by_status[429];
        std::ostringstream statuses;
        for (unsigned s = 1; s < counts.by_status.size(); ++s) {
            const auto n = counts.by_status[s].load();
            if (n == 0) continue;
            statuses << (statuses.tellp() > 0 ? ", " : "") << s << ": " << n;
            const bool fine = (s >= 200 && s < 300) || s == 304 || s == 101;
            (fine ? ok : unexpected) += n;
        }
        if (unexpected > 0)
            bad.add("client_status", std::to_string(unexpected) + " answers other than 2xx/304/101 (" + statuses.str()
                                         + "); rate limiting is off, so even 429 is not intended");
        std::ostringstream admin;
        for (const auto& [s, n] : w.statuses()) admin << (admin.tellp() > 0 ? ", " : "") << s << ": " << n;

        const double run = seconds_since(start);
        std::cout << "\n== soak figures (" << run << " s)\n"
                  << "clients:            " << c.clients << " (stores 1 and 2), " << c.threads << " client thread(s)\n"
                  << "churn:              " << registers.churned() << " stops and " << registers.restarted()
                  << " restarts (" << c.churn_percent << " % every " << c.churn_every << " s)\n"
                  << "writes:             " << w.writes() << " (" << double(w.writes()) / run << "/s; admin statuses "
                  << admin.str() << ")\n"
                  << "pulls:              " << t.pulls << " (" << double(t.pulls) / run << "/s)\n"
                  << "notifications:      " << t.notifications << " received, " << t.skipped
                  << " skipped as already held\n"
                  << "reconnects:         " << t.reconnects << " (WebSocket lost other than by churn)\n"
                  << "convergence checks: " << checks << ", " << checks_failed << " failed, slowest " << slowest_check
                  << " s\n"
                  << "client statuses:    " << statuses.str() << "; no answer: " << counts.no_answer.load()
                  << " (aborted by churn's stops); 429: " << rate_limited << " (none intended)\n"
                  << "server RSS:         start " << mib(f.start) << ", after warm-up (" << warmup << " s) "
                  << mib(f.after_warmup) << ", max after warm-up " << mib(f.max_after_warmup) << ", max " << mib(f.max)
                  << ", end " << mib(f.end) << "; growth " << mib(growth) << ", bound " << mib(bound) << " (max of "
                  << c.rss_bound_percent << " % and " << c.rss_bound_mib << " MiB)\n";
    }
    const int status = server->stop();
    const auto problems = bad.counts();
    std::cout << "server exit:        " << (WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                                               : "signal " + std::to_string(WTERMSIG(status)))
              << '\n';
    if (problems.empty()) {
        std::cout << "result:             PASS" << std::endl;
        return 0;
    }
    std::cout << "result:             FAIL (";
    bool first = true;
    for (const auto& [kind, n] : problems) {
        std::cout << (first ? "" : ", ") << kind << " x" << n;
        first = false;
    }
    std::cout << ")" << std::endl;
    return 1;
}
