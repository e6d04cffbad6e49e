// Catch-up over a throttled link: how long a register takes to become
// consistent, and how many bytes cross the wire, when its shop's uplink
// carries 2 MB/s; plain JSON, gzip, and (after an update) delta pages.
//
// In one process: a memory store with N products in N/100 categories behind
// the Beast server on 127.0.0.1, and a tcp_proxy in front of it that caps
// each direction at the given rate, shared by all connections as one uplink
// is (incsync/testing/tcp_proxy.hpp). Every byte the clients exchange with
// the server crosses the proxy, which counts them.
//
// Scenario "initial": a register (sync_client, Beast transport, memory
//   replica) syncs every type from empty, once without gzip and once with
//   (`accept_gzip`), each into a replica of its own.
// Scenario "update": the server changes the price of every product. A plain
//   HTTP client follows next_since from the cursor the registers held, for
//   {whole records, delta=true} x {gzip off, on}; then the two registers
//   catch up themselves (the client does not ask for deltas).
// With unthrottled=1 (the default) every run is repeated with the proxy
// unthrottled: what the CPU costs when the wire costs nothing.
//
// "seconds" is the time to consistent: from the first request to the last
// page applied (register) or read and parsed (HTTP client). "bytes_down" and
// "bytes_up" are everything the proxy carried, headers and all; "body_bytes"
// the response bodies as sent, "json_bytes" the same inflated.
//
// Usage: bench_throttled_catch_up [records=100000] [bytes_per_second=2000000] [unthrottled=1]
// Prints one JSON object per run.
#include <incsync/beast/server.hpp>
#include <incsync/client/beast_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/client/sync_thread.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/demo_data.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/testing/tcp_proxy.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace incsync;
using clock_type = std::chrono::steady_clock;
using server_t = memory::server_store<pos::entities>;
using replica_t = memory::client_store<pos::entities>;
using client_t = client::sync_client<replica_t, client::beast_transport>;
namespace http = boost::beast::http;

constexpr const char* register_token = "till";

[[noreturn]] void fail(const std::string& what)
{
    std::fprintf(stderr, "bench_throttled_catch_up: %s\n", what.c_str());
    std::exit(1);
}

/// N products over N/100 categories, named, priced and coded as in the demo
/// catalog (incsync/pos/demo_data.hpp), each with an image URL: the rows a
/// large shop's catalog holds. Returns the products as stored.
std::vector<pos::product> seed(server_t& store, std::int64_t records)
{
    namespace demo = incsync::detail::demo;
    const auto& kinds = demo::categories;
    const std::int64_t categories = std::max<std::int64_t>(1, records / 100);
    std::vector<std::int64_t> category_ids;
    for (std::int64_t c = 0; c < categories; ++c) {
        const auto& kind = kinds[static_cast<std::size_t>(c) % kinds.size()];
        pos::category v;
        v.name = std::string(kind.name) + " " + std::to_string(c / static_cast<std::int64_t>(kinds.size()) + 1);
        v.description = std::string(kind.description);
        auto r = store.create(v);
        if (!r) fail("create category: " + r.error().message());
        category_ids.push_back(r->record->value.id);
    }
    std::vector<std::vector<std::string_view>> bases, variants;
    for (const auto& k : kinds) {
        bases.push_back(demo::split_bar(k.bases));
        variants.push_back(demo::split_bar(k.variants));
    }
    std::vector<pos::product> products;
    products.reserve(static_cast<std::size_t>(records));
    for (std::int64_t i = 0; i < records; ++i) {
        const auto c = static_cast<std::size_t>(i % categories);
        const std::size_t k = c % kinds.size();
        const auto& kind = kinds[k];
        const auto n = static_cast<std::size_t>(i / categories); // the product's number in its category
        const std::size_t base = n % bases[k].size();
        const std::size_t variant = n / bases[k].size() % (variants[k].size() + 1); // 0: plain
        pos::product p;
        if (variant > 0) p.name = std::string(variants[k][variant - 1]) + " ";
        p.name += bases[k][base];
        p.name += " No. " + std::to_string(c / kinds.size() * 100 + n + 1); // unique within the catalog
        p.sku = demo::sku(kind.sku_code, c / kinds.size() * 100 + n + 1);
        p.price_cents = kind.price_cents + static_cast<std::int64_t>(base) * kind.price_step_cents
                      + (variant > 0 ? kind.variant_cents : 0);
        p.category_id = category_ids[c];
        p.is_active = i % 25 != 0;
        auto r = store.create(p);
        if (!r) fail("create product: " + r.error().message());
        const auto id = r->record->value.id;
        p.image_url = "/api/v1/products/" + std::to_string(id) + "/image";
        p.image_version = 1;
        const auto image = member_set{}.set(member_index<pos::product>("image_url")).set(member_index<pos::product>("image_version"));
        if (auto u = store.update(id, p, image); !u) fail("update product: " + u.error().message());
        p.id = id;
        products.push_back(std::move(p));
    }
    return products;
}

/// What one run measured.
struct run_result {
    double seconds = 0;
    std::uint64_t bytes_down = 0;
    std::uint64_t bytes_up = 0;
    std::optional<std::uint64_t> body_bytes; // known to the HTTP client only
    std::optional<std::uint64_t> json_bytes;
    std::uint64_t requests = 0;
    std::uint64_t records = 0; // changes received (HTTP client) or products in the replica
};

void print(const char* scenario, const char* client, bool gzip, bool delta, std::uint64_t bandwidth, const run_result& r)
{
    auto optional = [](const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : std::string("null"); };
    std::printf("{\"scenario\":\"%s\",\"client\":\"%s\",\"gzip\":%s,\"delta\":%s,\"bytes_per_second\":%llu,"
                "\"records\":%llu,\"seconds\":%.3f,\"bytes_down\":%llu,\"bytes_up\":%llu,\"body_bytes\":%s,"
                "\"json_bytes\":%s,\"requests\":%llu}\n",
                scenario, client, gzip ? "true" : "false", delta ? "true" : "false",
                static_cast<unsigned long long>(bandwidth), static_cast<unsigned long long>(r.records), r.seconds,
                static_cast<unsigned long long>(r.bytes_down), static_cast<unsigned long long>(r.bytes_up),
                optional(r.body_bytes).c_str(), optional(r.json_bytes).c_str(),
                static_cast<unsigned long long>(r.requests));
    std::fflush(stdout);
}

/// The proxy's counters once they have settled: each is bumped when a write
/// completes, which can be a moment after the peer read the bytes.
std::pair<std::uint64_t, std::uint64_t> settled_bytes(const testing::tcp_proxy& proxy)
{
    auto now = [&] { return std::pair{proxy.bytes_to_client(), proxy.bytes_to_server()}; };
    auto last = now();
    for (int i = 0; i < 100; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const auto next = now();
        if (next == last) break;
        last = next;
    }
    return last;
}

/// Inflates a gzip body (zlib, gzip wrapper).
std::string gunzip(std::string_view in)
{
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) fail("inflateInit2");
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        const std::size_t used = out.size();
        out.resize(used + std::max<std::size_t>(in.size() * 8, 65536));
        z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        z.avail_out = static_cast<uInt>(out.size() - used);
        rc = inflate(&z, Z_NO_FLUSH);
        out.resize(out.size() - z.avail_out);
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) fail("a gzip body that does not inflate");
    return out;
}

std::string percent_encode(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

/// A catch-up as a plain HTTP client does it: one keep-alive connection,
/// GET the products' pages from `cursor` until has_more is false.
run_result http_catch_up(std::uint16_t port, std::string cursor, bool gzip, bool delta)
{
    boost::asio::io_context ioc; // synchronous calls only: never run
    boost::beast::tcp_stream stream(ioc);
    stream.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::beast::flat_buffer buffer;
    run_result out;
    out.body_bytes = 0;
    out.json_bytes = 0;
    const auto t0 = clock_type::now();
    for (bool more = true; more;) {
        http::request<http::empty_body> req{http::verb::get,
                                            "/api/v1/sync/products?since=" + percent_encode(cursor) + "&limit=1000"
                                                + (delta ? "&delta=true" : ""),
                                            11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, std::string("Bearer ") + register_token);
        if (gzip) req.set(http::field::accept_encoding, "gzip");
        req.keep_alive(true);
        http::write(stream, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(256u << 20);
        http::read(stream, buffer, parser);
        auto res = parser.release();
        ++out.requests;
        if (res.result() != http::status::ok) fail("pull answered " + std::to_string(res.result_int()) + ": " + res.body());
        *out.body_bytes += res.body().size();
        std::string json = res[http::field::content_encoding] == "gzip" ? gunzip(res.body()) : std::move(res.body());
        *out.json_bytes += json.size();
        const auto page = boost::json::parse(json).as_object();
        out.records += page.at("changes").as_array().size();
        cursor = std::string(page.at("next_since").as_string());
        more = page.at("has_more").as_bool();
    }
    out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    return out;
}

/// A register over the proxy: replica, transport and client on a sync thread.
/// Real time off: it pulls when told to, so a run is one catch-up and nothing else.
struct register_client {
    register_client(std::uint16_t port, bool gzip)
        : transport(client::server_url{"127.0.0.1", std::to_string(port), ""}, transport_options(gzip))
    {
        client::client_options o;
        o.token = register_token;
        o.store_id = 1;
        o.cash_register_id = 1;
        o.realtime = false;
        o.images = false; // the catalog's records, not its pictures
        o.request_timeout = std::chrono::seconds(120);
        client.emplace(thread.executor(), replica, transport, std::move(o));
    }

    ~register_client()
    {
        client->stop();
        client.reset();
        thread.join();
    }

    register_client(const register_client&) = delete;
    register_client& operator=(const register_client&) = delete;

    static client::beast_transport_options transport_options(bool gzip)
    {
        client::beast_transport_options t;
        t.accept_gzip = gzip;
        t.max_body_bytes = 256u << 20;
        return t;
    }

    replica_t replica;
    client::beast_transport transport;
    client::sync_thread thread{0};
    std::optional<client_t> client;
};

/// The replica's products equal the server's.
bool consistent(const replica_t& replica, const server_t& store)
{
    std::vector<pos::product> server;
    for (const auto& rec : store.list<pos::product>(std::nullopt).value()) server.push_back(rec->value);
    std::sort(server.begin(), server.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return replica.all<pos::product>().value() == server;
}

/// One catch-up of `r`: every type (`product_only`: products alone, as a
/// notification of a price change would pull).
run_result register_catch_up(register_client& r, bool product_only, const server_t& store,
                             const beast::server<server_t>& server, const testing::tcp_proxy& proxy)
{
    const auto [down0, up0] = settled_bytes(proxy);
    const auto requests0 = server.stats().requests;
    const auto t0 = clock_type::now();
    bool ok = false;
    std::string failure;
    if (product_only) {
        auto outcome = r.client->perform_incremental_sync("product", boost::asio::use_future).get();
        ok = outcome.ok();
        failure = outcome.message;
    } else {
        auto report = r.client->perform_full_incremental_sync(boost::asio::use_future).get();
        ok = report.ok();
        for (const auto& t : report.types)
            if (!t.ok()) failure += t.entity_type + ": " + t.message + "; ";
    }
    run_result out;
    out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (!ok) fail("register sync failed: " + failure);
    if (!consistent(r.replica, store)) fail("the replica's products differ from the server's");
    const auto [down1, up1] = settled_bytes(proxy);
    out.bytes_down = down1 - down0;
    out.bytes_up = up1 - up0;
    out.requests = server.stats().requests - requests0;
    out.records = r.replica.all<pos::product>().value().size();
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    const std::int64_t records = argc > 1 ? std::atoll(argv[1]) : 100000;
    const std::uint64_t rate = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2'000'000;
    const bool unthrottled = argc > 3 ? std::atoi(argv[3]) != 0 : true;
    if (records < 1) fail("usage: bench_throttled_catch_up [records=100000] [bytes_per_second=2000000] [unthrottled=1]");

    memory::server_store_options so;
    so.epoch = 1;
    server_t store(so);
    const auto products = seed(store, records);

    boost::asio::io_context ioc(1);
    beast::server_options options;
    options.api.tokens.add_admin("admin");
    options.api.tokens.add_register(register_token, 1);
    options.rate = {0, 0}; // a catch-up's requests come back to back
    beast::server<server_t> server(ioc.get_executor(), store, options);
    server.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    std::thread server_thread([&] { ioc.run(); });

    testing::tcp_proxy proxy(server.local_endpoint().port());
    std::vector<std::uint64_t> rates{rate};
    if (unthrottled && rate != 0) rates.push_back(0);

    // Initial syncs, each into a replica of its own, kept for the update.
    std::vector<std::unique_ptr<register_client>> registers; // [rate index * 2 + gzip]
    for (const auto bandwidth : rates) {
        proxy.set_bandwidth(bandwidth);
        for (const bool gzip : {false, true}) {
            auto& r = *registers.emplace_back(std::make_unique<register_client>(proxy.port(), gzip));
            print("initial", "register", gzip, false, bandwidth, register_catch_up(r, false, store, server, proxy));
        }
    }

    // The cursor every register holds now: where the update's catch-ups start.
    const auto state = registers.front()->replica.state<pos::product>().value();
    if (!state) fail("no sync state after the initial sync");
    const std::string cursor = state->cursor;

    const auto price = member_set{}.set(member_index<pos::product>("price_cents"));
    for (const auto& before : products) {
        pos::product p;
        p.price_cents = before.price_cents + 10; // every price changes: an update that changes nothing is no change
        if (auto u = store.update(before.id, p, price); !u) fail("update: " + u.error().message());
    }

    for (std::size_t k = 0; k < rates.size(); ++k) {
        proxy.set_bandwidth(rates[k]);
        for (const bool delta : {false, true}) {
            for (const bool gzip : {false, true}) {
                const auto [down0, up0] = settled_bytes(proxy);
                auto r = http_catch_up(proxy.port(), cursor, gzip, delta);
                const auto [down1, up1] = settled_bytes(proxy);
                r.bytes_down = down1 - down0;
                r.bytes_up = up1 - up0;
                if (r.records != static_cast<std::uint64_t>(records))
                    fail("the HTTP catch-up received " + std::to_string(r.records) + " changes, not " + std::to_string(records));
                print("update", "http", gzip, delta, rates[k], r);
            }
        }
        for (const bool gzip : {false, true})
            print("update", "register", gzip, false, rates[k],
                  register_catch_up(*registers[k * 2 + (gzip ? 1 : 0)], true, store, server, proxy));
    }

    registers.clear();
    server.stop();
    server_thread.join();
    return 0;
}
