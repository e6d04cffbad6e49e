// Client catch-up benchmark: how fast a register applies a large catch-up,
// and what the POS thread reading the replica meanwhile sees.
//
// An in-process server (memory store, handler, hub) holds N products in
// N/100 categories; a sync_client on its own low-priority thread pulls them
// through the loopback transport (the same JSON bodies as over the network,
// no sockets). Meanwhile a "POS thread" looks products up by id and lists a
// category (the product grid) in a loop, timing each lookup.
//
// Phase "initial": the replica is empty and receives all N products.
// Phase "update":  the server changes the price of all N products, the
//                  replica (already full, so every lookup hits) catches up.
// Phase "idle":    the same lookups with no sync running: the baseline.
//
// Usage: bench_client_catch_up [records=100000] [apply_chunk=256] [page_limit=1000]
// Prints one JSON object per phase.
#include <incsync/client/loopback_transport.hpp>
#include <incsync/client/sync_client.hpp>
#include <incsync/client/sync_thread.hpp>
#include <incsync/hub.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/server/handler.hpp>

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace incsync;
using clock_type = std::chrono::steady_clock;
using server_t = memory::server_store<pos::entities>;
using replica_t = memory::client_store<pos::entities>;
using transport_t = client::loopback_transport<server_t>;
using client_t = client::sync_client<replica_t, transport_t>;

struct latencies {
    std::vector<double> by_id;       // microseconds
    std::vector<double> by_category; // microseconds
};

double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

/// Looks products up until `stop`, timing each lookup.
latencies pos_thread(const replica_t& replica, std::int64_t records, std::int64_t categories,
                     const std::atomic<bool>& stop)
{
    latencies out;
    std::mt19937_64 rng(7);
    std::int64_t sink = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        const auto id = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(records));
        auto t0 = clock_type::now();
        auto p = replica.get<pos::product>(id);
        auto t1 = clock_type::now();
        const auto cat = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(categories));
        auto grid = replica.find<pos::product>("category_id", cat);
        auto t2 = clock_type::now();
        if (p && *p) sink += (*p)->price_cents;
        if (grid) sink += static_cast<std::int64_t>(grid->size());
        out.by_id.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        out.by_category.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    if (sink == 42) std::puts(""); // keep the lookups
    return out;
}

void report(const char* phase, double seconds, std::int64_t records, const latencies& l)
{
    std::printf("{\"phase\":\"%s\",\"records\":%lld,\"seconds\":%.3f,\"records_per_second\":%.0f,"
                "\"lookups\":%zu,\"by_id_us\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.1f},"
                "\"by_category_us\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.1f}}\n",
                phase, static_cast<long long>(records), seconds, seconds > 0 ? static_cast<double>(records) / seconds : 0.0,
                l.by_id.size(), percentile(l.by_id, 0.5), percentile(l.by_id, 0.99), percentile(l.by_id, 1.0),
                percentile(l.by_category, 0.5), percentile(l.by_category, 0.99), percentile(l.by_category, 1.0));
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv)
{
    const std::int64_t records = argc > 1 ? std::atoll(argv[1]) : 100000;
    const std::size_t chunk = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 256;
    const std::size_t page = argc > 3 ? static_cast<std::size_t>(std::atoll(argv[3])) : 1000;
    const std::int64_t categories = std::max<std::int64_t>(1, records / 100);

    memory::server_store_options so;
    so.epoch = 1;
    server_t server(so);
    notification_hub hub;
    server::handler_options ho;
    ho.tokens.add_register("till", 1);
    server::handler<server_t> api(server, ho);
    for (std::int64_t i = 1; i <= records; ++i) {
        pos::product p;
        p.name = "Product " + std::to_string(i);
        p.sku = "SKU-" + std::to_string(i);
        p.price_cents = 100 + i % 900;
        p.category_id = 1 + (i - 1) % categories;
        p.is_active = true;
        (void)server.create(p);
    }

    replica_t replica;
    (void)replica.add_index<pos::product>("category_id");
    transport_t transport(api, hub);
    client::client_options co;
    co.token = "till";
    co.store_id = 1;
    co.realtime = false;
    co.apply_chunk = chunk;
    co.page_limit = page;

    client::sync_thread sync; // low priority, as in a POS
    client_t client(sync.executor(), replica, transport, co);

    auto run_phase = [&](const char* name) {
        std::atomic<bool> stop{false};
        latencies seen;
        std::thread pos([&] { seen = pos_thread(replica, records, categories, stop); });
        const auto t0 = clock_type::now();
        auto outcome = client.perform_incremental_sync("product", boost::asio::use_future).get();
        const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
        stop = true;
        pos.join();
        if (!outcome.ok()) {
            std::fprintf(stderr, "sync failed: %s\n", outcome.message.c_str());
            std::exit(1);
        }
        report(name, seconds, static_cast<std::int64_t>(outcome.records), seen);
        return seconds;
    };

    const double initial = run_phase("initial");
    for (std::int64_t i = 1; i <= records; ++i) {
        pos::product p;
        p.price_cents = 1000 + i % 900;
        (void)server.update(i, p, member_set{}.set(member_index<pos::product>("price_cents")));
    }
    run_phase("update");

    // Baseline: the same lookups for as long as the initial catch-up took, no sync.
    std::atomic<bool> stop{false};
    latencies idle;
    std::thread pos([&] { idle = pos_thread(replica, records, categories, stop); });
    std::this_thread::sleep_for(std::chrono::duration<double>(initial));
    stop = true;
    pos.join();
    report("idle", 0, 0, idle);
    client.stop();
    return 0;
}
