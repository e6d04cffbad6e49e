// Example: incsync-pos-server, the POS sync server of PROTOCOL.md.
//
//   incsync-pos-server --port 8080 --db pos.sqlite3 --demo-data
//   incsync-pos-server --host 0.0.0.0 --port 8080 --admin-token s3cret
//                      --register-token till-1:1 --register-token till-2:2  (one line)
//
// Without tokens it makes up one admin token and one register token per demo
// store, and prints them. It prints `listening on HOST:PORT` once it accepts
// connections (with --port 0, the port the system picked), and stops cleanly
// on SIGINT or SIGTERM. With `--db FILE` records, change log and images live
// in that SQLite file and survive restarts (and `kill -9`); cursors the
// registers hold stay valid. The web POS page (examples/web/) is served at
// `/` unless `--web-root ""` turns it off.
#include <incsync/beast/server.hpp>
#include <incsync/bus.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/demo_data.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/postgres/image_repository.hpp>
#include <incsync/postgres/notification_bus.hpp>
#include <incsync/postgres/server_store.hpp>
#include <incsync/redis/notification_bus.hpp>
#include <incsync/server/images.hpp>
#include <incsync/sqlite/image_repository.hpp>
#include <incsync/sqlite/server_store.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace {

#ifndef INCSYNC_WEB_ROOT
#define INCSYNC_WEB_ROOT "" // set by the build: the source tree's examples/web
#endif

struct config {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    std::string db = ":memory:";
    std::string db_schema = "incsync"; // PostgreSQL
    std::string bus;                   // "", "postgres", "redis://..."
    incsync::sqlite::durability durability = incsync::sqlite::durability::full;
    std::chrono::hours retention{24 * 30};
    bool demo_data = false;
    bool quiet = false;
    std::size_t demo_products = 300;
    unsigned threads = 1;
    incsync::beast::server_options server;
    std::vector<std::string> admin_tokens;
    std::vector<std::pair<std::string, std::int64_t>> register_tokens;
    bool made_up_tokens = false; // printed at start; tokens given by flags or file never are
};

constexpr std::string_view usage = R"(usage: incsync-pos-server [options]
  --host ADDR              address to listen on (default 127.0.0.1)
  --port N                 port (default 8080; 0 picks a free one)
  --db PATH|URI            the store: a SQLite file, created if missing and kept
                           across restarts, ":memory:" (default: lost on exit), or
                           a PostgreSQL database (postgresql://user@host:port/db),
                           which several instances may share
  --db-schema NAME         PostgreSQL schema of the store (default incsync)
  --bus postgres|URL       how instances sharing a PostgreSQL store tell each
                           other's clients of their writes: "postgres" (LISTEN/
                           NOTIFY on the store's database) or redis://host:port;
                           the channel is named after the schema
  --durability full|normal full (default): each write is fsynced before it is
                           acknowledged; normal: fsync at checkpoints only (a
                           power cut may lose the last writes; kill -9 never does)
  --retention-days N       keep tombstones and change-log entries N days (default
                           30); a register whose cursor is older reloads that type
  --admin-token T          a token that may write (repeatable)
  --register-token T:ID    a cash-register token bound to store ID (repeatable)
  --config FILE            tokens from a file: lines "admin T" or "register T ID"
  --demo-data              seed a demo catalog (categories, products with images,
                           recipes, two stores with tables, settings, prefixes)
                           into an empty store (a store with data is kept)
  --demo-products N        products in the demo catalog (default 300)
  --threads N              I/O threads (default 1)
  --rate-limit N[:BURST]   requests per second per client (default 50:200; 0 disables)
  --heartbeat-ms N         WebSocket ping / SSE comment interval (default 15000)
  --max-connections-per-ip N
                           open connections one address may hold (default 256;
                           0: no cap); the next is answered 429
  --permessage-deflate N   compress WebSocket messages of N bytes or more for clients
                           that offer permessage-deflate (default: off)
  --no-gzip                never gzip pull responses (default: above 1 KiB, when asked)
  --web-root DIR           serve DIR's files at / (default: the web POS page of the
                           source tree built from, examples/web, if it is still
                           there; "" serves none)
  --log-requests           log every request, not only connections and errors
  --quiet                  log nothing
)";

std::optional<std::int64_t> to_int(std::string_view s)
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

bool add_register_token(config& c, std::string_view spec)
{
    const auto colon = spec.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const auto store = to_int(spec.substr(colon + 1));
    if (!store) return false;
    c.register_tokens.emplace_back(std::string(spec.substr(0, colon)), *store);
    return true;
}

bool read_config_file(config& c, const std::string& path)
{
    std::ifstream in(path);
    if (!in) return false;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line); // blanks, tabs and a CRLF's \r are all space to >>
        std::string kind, token;
        std::int64_t store = 0;
        if (!(words >> kind) || kind.starts_with('#')) continue; // blank or comment
        if (kind == "admin" && words >> token) c.admin_tokens.push_back(token);
        else if (kind == "register" && words >> token >> store) c.register_tokens.emplace_back(token, store);
        else return false;
    }
    return true;
}

std::optional<config> parse_args(int argc, char** argv)
{
    config c;
    c.server.api.images = std::make_shared<incsync::server::memory_image_repository>();
    // The page of the source tree the binary was built from, if still there.
    if (std::filesystem::is_directory(INCSYNC_WEB_ROOT)) c.server.web_root = INCSYNC_WEB_ROOT;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= argc) return std::nullopt;
            return std::string_view(argv[++i]);
        };
        auto fail = [&](std::string_view why) -> std::optional<config> {
            std::cerr << "incsync-pos-server: " << why << " (" << arg << ")\n" << usage;
            return std::nullopt;
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (arg == "--demo-data") {
            c.demo_data = true;
        } else if (arg == "--log-requests") {
            c.server.log_requests = true;
        } else if (arg == "--no-gzip") {
            c.server.api.gzip = false;
        } else if (arg == "--quiet") {
            c.quiet = true;
        } else {
            auto v = value();
            if (!v) return fail("missing value");
            if (arg == "--host") c.host = *v;
            else if (arg == "--port") {
                auto p = to_int(*v);
                if (!p || *p < 0 || *p > 65535) return fail("bad port");
                c.port = static_cast<unsigned short>(*p);
            } else if (arg == "--db") {
                if (v->empty()) return fail("empty path");
                c.db = *v;
            } else if (arg == "--db-schema") {
                if (v->empty()) return fail("empty schema name");
                c.db_schema = *v;
            } else if (arg == "--bus") {
                if (*v != "postgres") {
                    auto url = incsync::redis::parse_redis_url(*v);
                    if (!url) return fail(url.error().detail);
                }
                c.bus = *v;
            } else if (arg == "--retention-days") {
                auto n = to_int(*v);
                if (!n || *n < 1 || *n > 36500) return fail("bad day count");
                c.retention = std::chrono::hours(24 * *n);
            } else if (arg == "--durability") {
                if (*v == "full") c.durability = incsync::sqlite::durability::full;
                else if (*v == "normal") c.durability = incsync::sqlite::durability::normal;
                else return fail("expected full or normal");
            } else if (arg == "--admin-token") {
                if (v->empty()) return fail("empty token");
                c.admin_tokens.emplace_back(*v);
            } else if (arg == "--register-token") {
                if (!add_register_token(c, *v)) return fail("expected TOKEN:STORE_ID");
            } else if (arg == "--config") {
                if (!read_config_file(c, std::string(*v))) return fail("cannot read tokens file");
            } else if (arg == "--demo-products") {
                auto n = to_int(*v);
                if (!n || *n < 0 || *n > 1'000'000) return fail("bad count");
                c.demo_products = static_cast<std::size_t>(*n);
            } else if (arg == "--threads") {
                auto n = to_int(*v);
                if (!n || *n < 1 || *n > 256) return fail("bad thread count");
                c.threads = static_cast<unsigned>(*n);
            } else if (arg == "--rate-limit") {
                const auto colon = v->find(':');
                auto rate = to_int(v->substr(0, colon));
                auto burst = colon == std::string_view::npos ? rate : to_int(v->substr(colon + 1));
                if (!rate || !burst || *rate < 0 || *burst < 0) return fail("expected N or N:BURST");
                c.server.rate = {static_cast<double>(*rate), static_cast<double>(*burst)};
            } else if (arg == "--web-root") {
                c.server.web_root = std::string(*v);
                if (!c.server.web_root.empty() && !std::filesystem::is_directory(c.server.web_root))
                    return fail("not a directory");
            } else if (arg == "--heartbeat-ms") {
                auto n = to_int(*v);
                if (!n || *n < 10) return fail("bad interval");
                c.server.heartbeat_interval = std::chrono::milliseconds(*n);
            } else if (arg == "--max-connections-per-ip") {
                auto n = to_int(*v);
                if (!n || *n < 0) return fail("expected a count (0: no cap)");
                c.server.max_connections_per_address = static_cast<std::size_t>(*n);
            } else if (arg == "--permessage-deflate") {
                auto n = to_int(*v);
                if (!n || *n < 0) return fail("expected a size in bytes");
                c.server.permessage_deflate.enabled = true;
                c.server.permessage_deflate.min_bytes = static_cast<std::size_t>(*n);
            } else return fail("unknown option");
        }
    }
    return c;
}

std::string random_token()
{
    std::random_device rd;
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string t(24, ' ');
    for (auto& ch : t) ch = alphabet[rd() % 36];
    return t;
}

void log_line(std::string_view line)
{
    static std::mutex mutex;
    char when[32];
    const auto now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::lock_guard lock(mutex);
    std::cerr << when << ' ' << line << '\n';
}

bool is_postgres(std::string_view db)
{
    return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

/// The notification bus `--bus` asked for, if any, on `executor`.
class bus_link {
public:
    bus_link(boost::asio::any_io_executor executor, const config& c)
    {
        const auto log = c.quiet ? std::function<void(std::string_view)>() : log_line;
        if (c.bus == "postgres") {
            binding_ = "postgres";
            bus_.emplace<postgres_bus>(std::make_unique<incsync::postgres::notification_bus>(
                executor, incsync::postgres::bus_options{.conninfo = c.db, .channel = c.db_schema, .log = log}));
        } else if (!c.bus.empty()) {
            const auto url = incsync::redis::parse_redis_url(c.bus).value(); // checked by parse_args
            binding_ = "redis";
            bus_.emplace<redis_bus>(std::make_unique<incsync::redis::notification_bus>(
                executor, incsync::redis::bus_options{.host = url.host, .port = url.port, .channel = c.db_schema, .log = log}));
        }
    }

    explicit operator bool() const noexcept { return bus_.index() != 0; }

    /// Wires the bus to `server`: its commits go out, the others' come in.
    template <class Server>
    void attach(Server& server)
    {
        if (!*this) return;
        relay_ = std::make_unique<incsync::bus_relay>(server.hub());
        visit([&](auto& bus) { bus.start(*relay_); });
    }
    void publish(const incsync::notification_ptr& n)
    {
        visit([&](auto& bus) { bus.publish(n); });
    }
    void stop()
    {
        visit([](auto& bus) { bus.stop(); });
    }
    void write_metrics(incsync::metrics::exposition& e) const
    {
        visit([&](const auto& bus) { incsync::write_metrics(e, bus.stats(), binding_); });
    }

private:
    using postgres_bus = std::unique_ptr<incsync::postgres::notification_bus>;
    using redis_bus = std::unique_ptr<incsync::redis::notification_bus>;

    template <class Fn>
    void visit(Fn&& fn) const
    {
        if (auto* p = std::get_if<postgres_bus>(&bus_)) fn(**p);
        else if (auto* r = std::get_if<redis_bus>(&bus_)) fn(**r);
    }

    std::variant<std::monostate, postgres_bus, redis_bus> bus_;
    std::string_view binding_;
    std::unique_ptr<incsync::bus_relay> relay_;
};

/// Seeds demo data into an empty store, then serves until SIGINT or SIGTERM.
template <class Store>
int serve(Store& store, config& c)
{
    if (c.demo_data) {
        auto high = store.high_water();
        if (high && *high > 0) {
            std::cout << "demo data: the store already holds " << *high << " changes; keeping them\n";
        } else {
            incsync::pos::demo_options demo;
            demo.products = c.demo_products;
            auto seeded = incsync::pos::seed_demo_data(store, c.server.api.images.get(), demo);
            if (!seeded) {
                std::cerr << "incsync-pos-server: seeding failed: " << seeded.error() << '\n';
                return 1;
            }
            std::cout << "demo data: " << seeded->records << " records, " << seeded->images << " images\n";
        }
    }

    // One descriptor per connection: allow as many as the hard limit does.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    c.server.threads = c.threads;
    boost::asio::io_context ioc(static_cast<int>(c.threads));
    bus_link bus(ioc.get_executor(), c);
    if (bus) {
        c.server.on_publish = [&bus](const incsync::notification_ptr& n) { bus.publish(n); };
        c.server.extra_metrics = [&bus](incsync::metrics::exposition& e) { bus.write_metrics(e); };
    }
    incsync::beast::server server(ioc.get_executor(), store, c.server);
    bus.attach(server);
    boost::system::error_code ec;
    server.listen({boost::asio::ip::make_address(c.host, ec), c.port}, ec);
    if (ec) {
        std::cerr << "incsync-pos-server: cannot listen on " << c.host << ':' << c.port << ": " << ec.message() << '\n';
        return 1;
    }
    const auto ep = server.local_endpoint();
    const auto base = "http://" + ep.address().to_string() + ':' + std::to_string(ep.port());
    if (c.made_up_tokens) { // nobody else knows them
        for (const auto& t : c.admin_tokens) std::cout << "admin token: " << t << '\n';
        for (const auto& [t, s] : c.register_tokens) std::cout << "register token (store " << s << "): " << t << '\n';
    }
    if (!c.server.web_root.empty()) {
        std::cout << "web POS page: " << base << "/ (sign in with a register token";
        if (c.made_up_tokens) {
            const auto& [token, store_id] = c.register_tokens.front();
            std::cout << ", or open " << base << "/?token=" << token << "&store_id=" << store_id << "&cash_register_id=21";
        }
        std::cout << ")\n";
    }
    std::cout << "listening on " << ep.address().to_string() << ':' << ep.port() << std::endl;

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int sig) {
        log_line(std::string("signal ") + std::to_string(sig) + ": stopping");
        server.stop();
        bus.stop();
    });

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < c.threads; ++i) threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();
    const auto stats = server.stats();
    std::cout << "stopped after " << stats.requests << " requests, " << stats.notifications_sent
              << " notifications sent" << std::endl;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    auto parsed = parse_args(argc, argv);
    if (!parsed) return 2;
    auto& c = *parsed;
    if (!c.quiet) c.server.log = log_line;

    if (c.admin_tokens.empty() && c.register_tokens.empty()) {
        c.admin_tokens.push_back(random_token());
        for (std::int64_t store : {1, 2}) c.register_tokens.emplace_back(random_token(), store);
        c.made_up_tokens = true;
    }
    for (const auto& t : c.admin_tokens) c.server.api.tokens.add_admin(t);
    for (const auto& [t, store] : c.register_tokens) c.server.api.tokens.add_register(t, store);

    if (!c.bus.empty() && !is_postgres(c.db)) {
        std::cerr << "incsync-pos-server: --bus needs a store several instances share: --db postgresql://...\n";
        return 2;
    }
    if (c.db == ":memory:") {
        incsync::memory::server_store<incsync::pos::entities> store({.retention = c.retention});
        return serve(store, c);
    }
    if (is_postgres(c.db)) {
        auto store = incsync::postgres::server_store<incsync::pos::entities>::open(
            c.db, {.schema = c.db_schema, .retention = c.retention});
        if (!store) {
            std::cerr << "incsync-pos-server: " << store.error().message() << '\n';
            return 1;
        }
        auto images = incsync::postgres::image_repository::open(c.db, {.schema = c.db_schema});
        if (!images) {
            std::cerr << "incsync-pos-server: " << images.error().message() << '\n';
            return 1;
        }
        c.server.api.images = std::move(*images);
        const auto changes = (*store)->high_water();
        std::cout << "store: " << (*store)->where() << " (" << (changes ? *changes : 0) << " changes)"
                  << (c.bus.empty() ? "" : ", bus: ") << (c.bus == "postgres" ? "postgres LISTEN/NOTIFY" : c.bus)
                  << std::endl;
        return serve(**store, c);
    }
    auto store = incsync::sqlite::server_store<incsync::pos::entities>::open(c.db, {.retention = c.retention, .sync = c.durability});
    if (!store) {
        std::cerr << "incsync-pos-server: " << store.error().message() << '\n';
        return 1;
    }
    auto images = incsync::sqlite::image_repository::open(c.db, {.sync = c.durability});
    if (!images) {
        std::cerr << "incsync-pos-server: " << images.error().message() << '\n';
        return 1;
    }
    c.server.api.images = std::move(*images);
    std::cout << "store: " << c.db << " (" << *(*store)->high_water() << " changes)" << std::endl;
    return serve(**store, c);
}
