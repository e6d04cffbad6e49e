// SQLite store benchmarks: what durability costs.
//
//   writes    records/s of creates through `sqlite::server_store`, one writer
//             and four, with each fsync policy (`durability::full`: fsync per
//             commit; `normal`: at checkpoints), against the memory store.
//   since     pull latency (`changes<product>`, limit 100) at random cursors
//             and at the tail (a register's usual "what changed since my last
//             pull"), with 10 000 and with 1 000 000 products in the store: a
//             range scan of the version index costs O(changes returned), so
//             the two sizes should cost about the same.
//   apply     a 100 000-record catch-up (`replicate`, pages of 1000) into the
//             SQLite replica and into the memory one, records/s.
//
// Usage: bench_sqlite_store [DIR=.] [big=1000000] [catch_up=100000]
// Files go to DIR (use a real disk, not tmpfs, for fsync to mean anything)
// and are deleted at the end. Prints one JSON object per measurement.
#include <incsync/memory/client_store.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/pull.hpp>
#include <incsync/replicate.hpp>
#include <incsync/sqlite/client_store.hpp>
#include <incsync/sqlite/server_store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace incsync;
using clock_type = std::chrono::steady_clock;
using entities = pos::entities;
using sqlite_server = sqlite::server_store<entities>;

double seconds_since(clock_type::time_point t0)
{
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

pos::product product_number(std::int64_t i)
{
    pos::product p;
    p.name = "Product " + std::to_string(i);
    p.sku = "SKU-" + std::to_string(i);
    p.price_cents = 100 + i % 900;
    p.category_id = 1 + i % 100;
    p.is_active = true;
    return p;
}

void remove_store_files(const std::string& path)
{
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

std::unique_ptr<sqlite_server> open_server(const std::string& path, sqlite::durability d)
{
    remove_store_files(path);
    auto s = sqlite_server::open(path, {.sync = d});
    if (!s) {
        std::fprintf(stderr, "%s\n", s.error().message().c_str());
        std::exit(1);
    }
    return std::move(*s);
}

/// `count` creates from `writers` threads; records/s.
template <class Store>
double write_rate(Store& store, int writers, int count)
{
    const auto t0 = clock_type::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            for (int i = w; i < count; i += writers)
                if (!store.create(product_number(i))) std::abort();
        });
    for (auto& t : threads) t.join();
    return count / seconds_since(t0);
}

void bench_writes(const std::string& dir)
{
    const std::string path = dir + "/bench-writes.sqlite3";
    for (int writers : {1, 4}) {
        {
            memory::server_store<entities> m;
            std::printf("{\"bench\":\"writes\",\"store\":\"memory\",\"writers\":%d,\"records_per_s\":%.0f}\n", writers,
                        write_rate(m, writers, 100000));
        }
        for (auto [d, name, count] : {std::tuple{sqlite::durability::full, "full", 2000},
                                      std::tuple{sqlite::durability::normal, "normal", 50000}}) {
            auto s = open_server(path, d);
            std::printf("{\"bench\":\"writes\",\"store\":\"sqlite\",\"durability\":\"%s\",\"writers\":%d,"
                        "\"records_per_s\":%.0f}\n",
                        name, writers, write_rate(*s, writers, count));
            s.reset();
            remove_store_files(path);
        }
        std::fflush(stdout);
    }
}

void bench_since(const std::string& dir, int big)
{
    const std::string path = dir + "/bench-since.sqlite3";
    auto s = open_server(path, sqlite::durability::normal);
    std::mt19937_64 rng(42);
    int loaded = 0;
    for (int size : {10000, big}) {
        const auto t0 = clock_type::now();
        for (; loaded < size; ++loaded)
            if (!s->create(product_number(loaded))) std::abort();
        const double load_s = seconds_since(t0);
        const version_t high = *s->high_water();
        auto time_pulls = [&](auto cursor_of) {
            std::vector<double> us;
            for (int i = 0; i < 2000; ++i) {
                const version_t after = cursor_of();
                const auto q0 = clock_type::now();
                auto page = s->changes<pos::product>({after, after, std::nullopt, 100});
                us.push_back(seconds_since(q0) * 1e6);
                if (!page) std::abort();
            }
            return us;
        };
        auto random = time_pulls([&] { return std::uniform_int_distribution<version_t>(0, high - 100)(rng); });
        auto tail = time_pulls([&] { return high - std::uniform_int_distribution<version_t>(1, 10)(rng); });
        std::printf("{\"bench\":\"since\",\"records\":%d,\"load_s\":%.1f,\"random_cursor_100_p50_us\":%.1f,"
                    "\"random_cursor_100_p99_us\":%.1f,\"tail_p50_us\":%.1f,\"tail_p99_us\":%.1f}\n",
                    size, load_s, percentile(random, 0.5), percentile(random, 0.99), percentile(tail, 0.5),
                    percentile(tail, 0.99));
        std::fflush(stdout);
    }
    s.reset();
    remove_store_files(path);
}

void bench_apply(const std::string& dir, int records)
{
    memory::server_store<entities> server;
    for (int i = 0; i < records; ++i)
        if (!server.create(product_number(i))) std::abort();
    auto report = [&](const char* store, auto& replica) {
        const auto t0 = clock_type::now();
        auto r = replicate<pos::product>(server, replica, std::nullopt, 1000);
        const double s = seconds_since(t0);
        if (!r || r->upserts != static_cast<std::size_t>(records)) std::abort();
        std::printf("{\"bench\":\"apply\",\"store\":\"%s\",\"records\":%d,\"seconds\":%.2f,\"records_per_s\":%.0f}\n",
                    store, records, s, records / s);
        std::fflush(stdout);
    };
    {
        memory::client_store<entities> m;
        report("memory", m);
    }
    const std::string path = dir + "/bench-replica.sqlite3";
    for (auto [d, name] : {std::pair{sqlite::durability::normal, "sqlite-normal"},
                           std::pair{sqlite::durability::full, "sqlite-full"}}) {
        remove_store_files(path);
        auto r = sqlite::client_store<entities>::open(path, {.sync = d});
        if (!r) std::abort();
        report(name, **r);
        // Reopening loads the file into memory: what a register's start costs.
        r->reset();
        const auto t0 = clock_type::now();
        auto again = sqlite::client_store<entities>::open(path);
        if (!again || (*again)->size<pos::product>() != static_cast<std::size_t>(records)) std::abort();
        std::printf("{\"bench\":\"reopen\",\"store\":\"%s\",\"records\":%d,\"seconds\":%.2f}\n", name, records,
                    seconds_since(t0));
        std::fflush(stdout);
    }
    remove_store_files(path);
}

} // namespace

int main(int argc, char** argv)
{
    const std::string dir = argc > 1 ? argv[1] : ".";
    const int big = argc > 2 ? std::atoi(argv[2]) : 1000000;
    const int catch_up = argc > 3 ? std::atoi(argv[3]) : 100000;
    bench_writes(dir);
    bench_apply(dir, catch_up);
    bench_since(dir, big);
    return 0;
}
