// Example: incsync-pos-client, a cash register's sync client.
//
//   incsync-pos-client --url http://127.0.0.1:8080 --token demo-till-1 --store-id 1
//                      --cash-register-id 1 --dump register1.json   (one line)
//   incsync-pos-client --url http://127.0.0.1:8080 --token demo-till-1 --store-id 1 --once
//   incsync-pos-client --url http://10.0.0.1:8080,http://10.0.0.2:8080 --token demo-till-1 --store-id 1
//
// Several --url (repeated, or one comma-separated list) name instances of one
// server that share a store: requests and the WebSocket go to the first; when
// it stops answering (refused, timed out, reset) the client moves to the next
// and logs which one it uses.
//
// It keeps a local replica in step with incsync-pos-server: an initial full
// sync, then real-time notifications over the WebSocket, reconnects with
// backoff, a long-polling fallback and product images. Each applied change is
// logged; the plan's bottom bar (online badge, sync error, auth failure,
// pending count, last sync) is the last line of the terminal and updates live.
// Sync runs on its own low-priority thread; this main thread only prints, as a
// POS user interface would. SIGINT or SIGTERM stops it (writing --dump first);
// SIGUSR1 writes --dump and goes on. With `--db FILE` the replica is a SQLite
// file: each page commits with its cursor, so a register killed at any point
// resumes where it was. Every minute it reports its sync analytics to the
// server (GET /metrics shows them per register); `--stats` prints them on exit.
#include <incsync/client/analytics.hpp>
#include <incsync/client/beast_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/client/sync_thread.hpp>
#include <incsync/codec.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/sqlite/client_store.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using replica_t = incsync::sqlite::client_store<incsync::pos::entities>;
using client_t = incsync::client::sync_client<replica_t, incsync::client::beast_transport>;

struct config {
    std::vector<std::string> urls; ///< each --url as given (a comma-separated list or one URL); none: the default
    std::string db = ":memory:";
    std::string dump;
    std::string name;
    bool once = false;
    bool quiet = false;
    bool bar = true;
    bool stats = false;
    incsync::client::client_options client;
    incsync::client::beast_transport_options transport;
};

constexpr std::string_view usage = R"(usage: incsync-pos-client --token T --store-id N [options]
  --url URL[,URL...]       server (default http://127.0.0.1:8080); repeat it or list
                           several instances sharing one store: the client uses the
                           first and moves to the next when one stops answering
  --token T                the register's token
  --store-id N             the register's store
  --cash-register-id N     the register's id (default 1)
  --db PATH                the local replica: a SQLite file, kept across restarts
                           (sync resumes from its cursors), or ":memory:" (default)
  --dump FILE              on exit (SIGTERM included) write the local store as JSON:
                           {"product": [records...], ...}; SIGUSR1 writes it at once
  --once                   one full sync (records, no images), then exit: 0 when every type synced
  --name LABEL             how log lines name this register (default "register N")
  --page-limit N           records per pull (default 1000)
  --heartbeat-ms N         WebSocket heartbeat (default 20000)
  --no-images              do not download product images
  --no-bar                 no live bottom bar: status changes as log lines
  --stats                  on exit, print the sync analytics: per type the last pull's
                           duration, records, bytes and error, totals, reconnects, time offline
  --analytics-interval S   report the analytics to the server every S seconds (default 60; 0: never)
  --no-gzip                do not ask for gzipped pulls
  --quiet                  log nothing but errors
)";

std::optional<std::int64_t> to_int(std::string_view s)
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<config> parse_args(int argc, char** argv)
{
    config c;
    c.client.cash_register_id = 1;
    c.client.analytics_interval = std::chrono::seconds(60);
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto fail = [&](std::string_view why) -> std::optional<config> {
            std::cerr << "incsync-pos-client: " << why << " (" << arg << ")\n" << usage;
            return std::nullopt;
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (arg == "--once") { c.once = true; continue; }
        if (arg == "--quiet") { c.quiet = true; continue; }
        if (arg == "--no-bar") { c.bar = false; continue; }
        if (arg == "--no-images") { c.client.images = false; continue; }
        if (arg == "--stats") { c.stats = true; continue; }
        if (arg == "--no-gzip") { c.transport.accept_gzip = false; continue; }
        if (i + 1 >= argc) return fail("unknown option or missing value");
        const std::string_view v = argv[++i];
        if (arg == "--url") c.urls.emplace_back(v);
        else if (arg == "--token") c.client.token = v;
        else if (arg == "--db") c.db = v;
        else if (arg == "--dump") c.dump = v;
        else if (arg == "--name") c.name = v;
        else if (arg == "--store-id" || arg == "--cash-register-id" || arg == "--page-limit" || arg == "--heartbeat-ms"
                 || arg == "--analytics-interval") {
            auto n = to_int(v);
            if (!n || *n < 0) return fail("expected a number");
            if (arg == "--store-id") c.client.store_id = *n;
            else if (arg == "--cash-register-id") c.client.cash_register_id = *n;
            else if (arg == "--page-limit") {
                if (*n < 1 || *n > 10000) return fail("page limit must be 1..10000");
                c.client.page_limit = static_cast<std::size_t>(*n);
            } else if (arg == "--analytics-interval") c.client.analytics_interval = std::chrono::seconds(*n);
            else c.transport.heartbeat = std::chrono::milliseconds(*n);
        } else return fail("unknown option");
    }
    if (c.client.token.empty()) {
        std::cerr << "incsync-pos-client: --token is required\n" << usage;
        return std::nullopt;
    }
    if (!c.client.store_id) {
        std::cerr << "incsync-pos-client: --store-id is required\n" << usage;
        return std::nullopt;
    }
    if (c.name.empty()) c.name = "register " + std::to_string(c.client.cash_register_id);
    return c;
}

/// The local store as `{"product": [...], ...}`, records as the server sends them.
std::string dump_json(const replica_t& replica)
{
    std::string out = "{";
    bool first = true;
    incsync::for_each_entity<incsync::pos::entities>([&]<class E>(std::type_identity<E>) {
        if (!first) out += ",";
        first = false;
        out += "\n\"";
        out += incsync::entity_type_name<E>;
        out += "\":[";
        auto all = replica.all<E>();
        if (all) {
            for (std::size_t i = 0; i < all->size(); ++i) {
                if (i) out += ",";
                incsync::append_json(out, (*all)[i]);
            }
        }
        out += "]";
    });
    out += "\n}\n";
    return out;
}

bool write_dump(const std::string& path, const replica_t& replica)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) return false;
        f << dump_json(replica);
        if (!f.flush()) return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0; // whole or nothing
}

std::string clock_time(incsync::timestamp t)
{
    auto s = incsync::format_timestamp(t); // 2025-12-23T10:30:00.123456Z
    return s.substr(11, 12);
}

/// The plan's bottom bar, in one line. `live`: with the pending count and
/// last sync time (a terminal redraws it); else only what changes rarely.
std::string bottom_bar(const incsync::client::sync_status& st, bool live)
{
    std::ostringstream bar;
    if (st.online) bar << "[online";
    else if (!st.last_sync && !st.last_error) bar << "[connecting";
    else bar << "[OFFLINE";
    // The channel only while online: offline, each reconnect attempt would
    // make the badge flicker between channels.
    if (st.online && st.realtime != incsync::client::channel::none) bar << ' ' << to_string(st.realtime);
    bar << ']';
    if (st.auth_failure) bar << " | AUTH FAILURE: re-authenticate";
    for (const auto& t : st.types) {
        if (t.error && t.error->kind != incsync::client::error_kind::auth_expired) {
            bar << " | ! sync error: " << t.entity_type << ' ' << to_string(t.error->kind);
            if (t.error->http_status) bar << " (HTTP " << t.error->http_status << ')';
            break;
        }
    }
    if (st.images_failing) bar << " | ! images failing: " << st.images_failing;
    if (live) {
        bar << " | pending " << st.pending;
        if (st.syncing()) bar << " | syncing";
        bar << " | last sync " << (st.last_sync ? clock_time(*st.last_sync) : std::string("never"));
    } else {
        bar << (!st.last_sync ? " | not synced yet" : st.pending ? " | catching up" : " | up to date");
    }
    return bar.str();
}

/// Prints log lines above a bottom bar kept on the terminal's last line (or,
/// not on a terminal, the bar's changes as plain lines). Main thread only.
class console {
public:
    console(bool bar, bool quiet) : tty_(bar && ::isatty(STDOUT_FILENO)), quiet_(quiet) {}

    void log(const std::string& line)
    {
        if (quiet_) return;
        if (tty_) std::cout << "\r\x1b[K" << line << '\n' << bar_ << std::flush;
        else std::cout << line << std::endl;
    }

    void status(const incsync::client::sync_status& st, const std::string& name)
    {
        auto line = bottom_bar(st, tty_);
        if (line == bar_) return;
        bar_ = std::move(line);
        if (quiet_) return;
        if (tty_) std::cout << "\r\x1b[K" << bar_ << std::flush;
        else std::cout << name << " status: " << bar_ << std::endl;
    }

    void end()
    {
        if (tty_ && !quiet_) std::cout << '\n' << std::flush;
    }

private:
    bool tty_;
    bool quiet_;
    std::string bar_;
};

/// How long after the server's commit the newest of these records reached
/// this replica (server and register clocks: the same machine in the demo).
std::optional<std::chrono::microseconds> commit_to_apply(const replica_t& replica, const incsync::client::applied_page& p)
{
    std::optional<incsync::timestamp> newest;
    incsync::for_each_entity<incsync::pos::entities>([&]<class E>(std::type_identity<E>) {
        if (incsync::entity_type_name<E> != p.entity_type) return;
        for (auto id : p.upserted)
            if (auto r = replica.get<E>(id); r && *r && (!newest || (*r)->updated_at > *newest)) newest = (*r)->updated_at;
    });
    if (!newest) return std::nullopt;
    return std::chrono::microseconds(incsync::timestamp::now().micros - newest->micros);
}

/// One log line for an applied page: the ids when they are few, with the
/// time since their commit (what "at once" means here).
std::string describe(const replica_t& replica, const incsync::client::applied_page& p)
{
    std::ostringstream line;
    const auto n = p.upserted.size() + p.deleted.size();
    if (n > 6) {
        line << p.entity_type << ": " << p.upserted.size() << " changed, " << p.deleted.size() << " deleted";
    } else {
        const char* sep = "";
        for (auto id : p.upserted) { line << sep << p.entity_type << " #" << id << " changed"; sep = ", "; }
        for (auto id : p.deleted) { line << sep << p.entity_type << " #" << id << " deleted"; sep = ", "; }
        if (auto delay = commit_to_apply(replica, p); delay && !p.resync)
            line << ", " << static_cast<double>(delay->count() / 100) / 10 << " ms after its commit";
    }
    if (p.resync) line << " (reload)";
    line << " (v" << p.version << ")";
    return line.str();
}

} // namespace

int main(int argc, char** argv)
{
    auto parsed = parse_args(argc, argv);
    if (!parsed) return 2;
    config c = std::move(*parsed);
    if (c.urls.empty()) c.urls.emplace_back("http://127.0.0.1:8080");
    std::vector<incsync::client::server_url> urls;
    for (const auto& arg : c.urls) {
        auto parsed = incsync::client::parse_server_urls(arg);
        if (!parsed) {
            std::cerr << "incsync-pos-client: --url " << arg << ": " << parsed.error().message() << '\n';
            return 2;
        }
        urls.insert(urls.end(), parsed->begin(), parsed->end());
    }
    std::string url_list;
    for (const auto& u : urls) url_list += (url_list.empty() ? "" : ", ") + incsync::client::to_string(u);

    auto opened = replica_t::open(c.db);
    if (!opened) {
        std::cerr << "incsync-pos-client: " << opened.error().message() << '\n';
        return 2;
    }
    replica_t& replica = **opened;
    boost::asio::io_context ui; // this thread: printing, signals
    struct {
        bool initial_done = false;
        std::size_t initial = 0;
    } images;
    console out(c.bar && !c.once, c.quiet);
    const std::string name = c.name;
    if (!c.once) {
        c.client.on_applied = [&ui, &out, &replica, name](const incsync::client::applied_page& p) {
            boost::asio::post(ui, [&out, line = name + ": " + describe(replica, p)] { out.log(line); });
        };
        // Images one line each once the register is up to date; the initial
        // download of the whole catalog's images is one summary line.
        c.client.on_image = [&ui, &out, &images, name](std::string_view type, std::int64_t id, std::int64_t version) {
            boost::asio::post(ui, [&out, &images, line = name + ": " + std::string(type) + " #" + std::to_string(id)
                                                          + " image v" + std::to_string(version) + " stored"] {
                if (images.initial_done) out.log(line);
                else ++images.initial;
            });
        };
    } else {
        c.client.realtime = false;
        c.client.images = false; // the dump holds records; images would only slow the exit
    }

    incsync::client::beast_transport transport(std::move(urls), c.transport);
    int exit_code = 0;
    std::string stats;
    {
        incsync::client::sync_thread sync; // low priority
        client_t client(sync.executor(), replica, transport, c.client);
        if (c.once) {
            // Transient trouble (paced by the server, a hiccup) gets a few
            // more tries; a refused token or bad data does not.
            auto report = client.perform_full_incremental_sync(boost::asio::use_future).get();
            for (int attempt = 1; attempt < 5 && !report.ok(); ++attempt) {
                std::chrono::milliseconds wait = 500ms * attempt;
                bool transient = true;
                for (const auto& t : report.types) {
                    using incsync::client::error_kind;
                    if (t.ok()) continue;
                    transient = transient && (t.error == error_kind::rate_limited || t.error == error_kind::offline
                                              || t.error == error_kind::server_error);
                    wait = std::max<std::chrono::milliseconds>(wait, t.retry_after);
                }
                if (!transient) break;
                std::this_thread::sleep_for(wait);
                report = client.perform_full_incremental_sync(boost::asio::use_future).get();
            }
            std::size_t records = 0;
            for (const auto& t : report.types) {
                records += t.records;
                if (!t.ok()) std::cerr << name << ": " << t.entity_type << ": " << to_string(t.error) << ": " << t.message << '\n';
            }
            if (!c.quiet) std::cout << name << ": full sync " << (report.ok() ? "complete" : "FAILED") << ", " << records << " records\n";
            exit_code = report.ok() ? 0 : 1;
        } else {
            // Which instance it uses, logged when that changes (checked with
            // each status change: a move to another URL comes with one).
            std::size_t logged_url = transport.current_index();
            auto subscription = client.subscribe(ui.get_executor(), [&](const incsync::client::sync_status& st) {
                if (const auto now = transport.current_index(); now != logged_url) {
                    logged_url = now;
                    out.log(name + ": now using " + incsync::client::to_string(transport.current_url()));
                }
                if (!images.initial_done && st.online && st.pending == 0 && st.last_sync) {
                    images.initial_done = true;
                    out.log(name + ": up to date, " + std::to_string(images.initial) + " images stored");
                }
                out.status(st, name);
            });
            boost::asio::signal_set signals(ui, SIGINT, SIGTERM);
            signals.async_wait([&](boost::system::error_code, int) {
                subscription.reset();
                client.stop();
                ui.stop();
            });
            // SIGUSR1: write --dump now and go on (a test or an operator
            // compares the register with the server without stopping it).
            boost::asio::signal_set dump_signal(ui, SIGUSR1);
            std::function<void()> arm_dump = [&] {
                dump_signal.async_wait([&](boost::system::error_code ec, int) {
                    if (ec) return;
                    if (!c.dump.empty() && !write_dump(c.dump, replica)) out.log(name + ": cannot write " + c.dump);
                    arm_dump();
                });
            };
            arm_dump();
            out.log(name + ": syncing with " + url_list + " (store " + std::to_string(*c.client.store_id) + ")");
            client.start();
            ui.run();
        }
        client.stop();
        if (c.stats) stats = incsync::client::format_stats(client.status(), incsync::timestamp::now());
    } // the sync thread finishes its work and joins here
    out.end();
    if (c.stats) std::cout << stats << std::flush;
    if (!c.dump.empty() && !write_dump(c.dump, replica)) {
        std::cerr << name << ": cannot write " << c.dump << '\n';
        return 1;
    }
    return exit_code;
}
