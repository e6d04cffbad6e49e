// The conformance kit: the invariants of DESIGN.md as reusable checks that any
// store backend, ours or a user's, runs with a few lines:
//
//     incsync::memory::server_store<my::entities> store;
//     auto report = incsync::testing::check_convergence(store, {.seed = 42});
//     BOOST_TEST(report.passed(), report.summary());
//
// `check_convergence` is the "nothing is missed" test: writer threads commit
// random creates, updates and deletes across every entity type and several
// stores while replica readers pull pages of random size (1..max_page) and
// apply them, following cursors, following the largest `updated_at` seen as a
// timestamp (what the plan's clients do), or asking for deltas. Once writers
// stop and readers catch up, every replica must equal the server's view of its
// store exactly. It also checks, along the way, that commits are numbered and
// timestamped in commit order, that pages are in version order, and that no
// record of another store ever reaches a replica.
#ifndef INCSYNC_TESTING_CONFORMANCE_HPP
#define INCSYNC_TESTING_CONFORMANCE_HPP

#include <incsync/codec.hpp>
#include <incsync/delta.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/pull.hpp>
#include <incsync/store.hpp>
#include <incsync/testing/random.hpp>

#include <boost/json/serialize.hpp>
#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace incsync::testing {

struct conformance_options {
    std::uint64_t seed = 1;
    int writers = 3;
    int operations_per_writer = 1500;
    int reader_threads = 2;
    int replicas_per_store = 3; ///< rotating through cursor, timestamp and delta following
    std::vector<std::int64_t> stores{1, 2}; ///< stores with replicas; writes also go to one without
    std::size_t max_page = 50;
    std::chrono::seconds time_limit{120};
};

struct conformance_report {
    std::vector<std::string> failures;
    std::uint64_t writes = 0;
    std::uint64_t pulls = 0;
    std::uint64_t records_applied = 0;
    std::uint64_t resyncs = 0;
    std::uint64_t pulls_while_writing = 0; ///< pulls that ran while writers were committing

    bool passed() const noexcept { return failures.empty(); }

    std::string summary() const
    {
        std::ostringstream os;
        os << (passed() ? "passed" : "FAILED") << ": " << writes << " writes, " << pulls << " pulls, "
           << records_applied << " records applied, " << resyncs << " resyncs, " << pulls_while_writing
           << " pulls while writing";
        for (std::size_t i = 0; i < failures.size() && i < 10; ++i) os << "\n  " << failures[i];
        if (failures.size() > 10) os << "\n  ... " << failures.size() - 10 << " more";
        return os.str();
    }
};

enum class follow_mode { cursor, timestamp, delta };

namespace detail {

class failure_log {
public:
    void add(std::string what)
    {
        std::lock_guard lock(mutex_);
        if (failures_.size() < 100) failures_.push_back(std::move(what));
    }
    bool any() const
    {
        std::lock_guard lock(mutex_);
        return !failures_.empty();
    }
    std::vector<std::string> take()
    {
        std::lock_guard lock(mutex_);
        return std::move(failures_);
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> failures_;
};

template <class Entities>
struct replica {
    memory::client_store<Entities> store;
    std::int64_t store_id = 0;
    follow_mode mode = follow_mode::cursor;
    std::mutex busy; ///< one puller at a time per replica
};

template <entity E>
void assign_store(E& v, rng& g, const std::vector<std::int64_t>& stores)
{
    std::uniform_int_distribution<std::size_t> pick(0, stores.size() - 1);
    if constexpr (entity_scope<E> == scope::store) v.store_id = stores[pick(g)];
    else if constexpr (entity_scope<E> == scope::mixed)
        v.store_id = std::bernoulli_distribution(0.4)(g) ? std::optional<std::int64_t>{} : stores[pick(g)];
}

struct stamp {
    version_t version;
    timestamp at;
};

/// One writer: random creates, updates and deletes of its own records, so the
/// outcome of each write is known in advance.
/// Every `pace_every` operations a writer waits until readers have pulled
/// again, so reads are guaranteed to interleave with writes however the
/// threads are scheduled.
inline constexpr int pace_every = 10;

template <server_store Store>
void run_writer(Store& store, rng g, int operations, const std::vector<std::int64_t>& stores,
                failure_log& failures, std::vector<stamp>& commits, const std::atomic<std::uint64_t>& pulls,
                std::chrono::steady_clock::time_point deadline)
{
    using L = typename Store::entities;
    constexpr std::size_t types = boost::mp11::mp_size<L>::value;
    std::vector<std::vector<std::int64_t>> own(types);
    version_t last_version = 0;
    timestamp last_at;
    auto record = [&](const change& c, const char* what) {
        if (c.version <= last_version || c.committed_at <= last_at)
            failures.add(std::string(what) + ": commit " + std::to_string(c.version)
                         + " is not after this writer's previous commit " + std::to_string(last_version));
        last_version = c.version;
        last_at = c.committed_at;
        commits.push_back({c.version, c.committed_at});
    };
    std::uint64_t pulls_seen = pulls.load();
    for (int op = 0; op < operations && !failures.any(); ++op) {
        if (op % pace_every == 0) {
            while (pulls.load() == pulls_seen && !failures.any() && std::chrono::steady_clock::now() < deadline)
                std::this_thread::yield();
            pulls_seen = pulls.load();
        }
        const std::size_t k = std::uniform_int_distribution<std::size_t>(0, types - 1)(g);
        boost::mp11::mp_with_index<types>(k, [&](auto I) {
            using E = boost::mp11::mp_at_c<L, I>;
            auto& ids = own[I];
            const int dice = std::uniform_int_distribution<int>(0, 99)(g);
            if (ids.empty() || dice < 45) {
                E v = random_value<E>(g);
                assign_store(v, g, stores);
                auto c = store.template create<E>(v);
                if (!c) return failures.add("create failed: " + c.error().message());
                ids.push_back(c->change.id);
                record(c->change, "create");
            } else if (dice < 85) {
                const std::size_t at = std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(g);
                E v = random_value<E>(g);
                member_set members(g());
                if constexpr (entity_scope<E> != scope::global)
                    members.reset(member_index<E>("store_id"));
                auto c = store.template update<E>(ids[at], v, members);
                if (!c) return failures.add("update failed: " + c.error().message());
                if (!c->is_noop()) record(c->change, "update");
            } else {
                const std::size_t at = std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(g);
                auto c = store.template remove<E>(ids[at]);
                if (!c) return failures.add("remove failed: " + c.error().message());
                ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(at));
                record(c->change, "remove");
            }
        });
    }
}

/// Pulls one page of `E` for `r` and applies it. Returns false once the view
/// is caught up (no more pages and nothing new in this one).
template <entity E, server_store Store>
bool pull_once(const Store& store, replica<typename Store::entities>& r, std::size_t limit,
               failure_log& failures, conformance_report& counts)
{
    auto state = r.store.template state<E>();
    sync_state s = state && *state ? **state : sync_state{std::string(entity_type_name<E>), {}, 0, {}};
    auto pulled = pull<E>(store, {s.cursor, r.store_id, limit});
    ++counts.pulls;
    if (!pulled && pulled.error() == error::resync_required) {
        ++counts.resyncs;
        (void)r.store.template apply<E>(page_update<E>{true, {}, {}, {std::string(entity_type_name<E>), {}, 0, {}}});
        return true;
    }
    if (!pulled) {
        failures.add(std::string("pull of ") + std::string(entity_type_name<E>) + " failed: " + pulled.error().message());
        return false;
    }
    const auto& page = pulled->page;
    page_update<E> update;
    version_t previous = pulled->since.after;
    timestamp newest = s.cursor.empty() || r.mode != follow_mode::timestamp ? timestamp{} : *parse_timestamp(s.cursor);
    auto check_order = [&](version_t v) {
        if (v <= pulled->since.after) failures.add("page entry at or before the cursor");
        previous = std::max(previous, v);
    };
    // Entries of both arrays together must be distinct versions in the range.
    std::vector<version_t> versions;
    for (const auto& e : page.changes) {
        check_order(e.version);
        versions.push_back(e.version);
        const E& v = e.record->value;
        newest = std::max(newest, v.updated_at);
        const auto owner = store_of(v);
        if (owner && *owner != r.store_id)
            failures.add(std::string(entity_type_name<E>) + " " + std::to_string(v.id) + " of store "
                         + std::to_string(*owner) + " reached a replica of store " + std::to_string(r.store_id));
        if (r.mode == follow_mode::delta && e.type == change_type::update) {
            auto held = r.store.template get<E>(v.id);
            if (!held || !*held) {
                failures.add("delta for " + std::string(entity_type_name<E>) + " " + std::to_string(v.id)
                             + " that the replica does not hold");
                continue;
            }
            // Through JSON text, as a client over the wire gets it.
            const auto text = boost::json::serialize(
                encode_delta(v, e.changed | member_set{}.set(member_index<E>("id"))));
            E merged = **held;
            auto applied = apply_delta(merged, boost::json::parse(text).as_object(), lenient_decode);
            if (!applied) failures.add("delta did not apply: " + applied.error().message());
            update.upserts.push_back(std::move(merged));
        } else if (r.mode == follow_mode::cursor) {
            auto decoded = from_json_text<E>(e.record->json, lenient_decode);
            if (!decoded || !(*decoded == v))
                failures.add("record JSON does not decode to the record: " + e.record->json);
            update.upserts.push_back(v);
        } else {
            update.upserts.push_back(v);
        }
    }
    for (const auto& t : page.deleted) {
        check_order(t.version);
        versions.push_back(t.version);
        newest = std::max(newest, t.deleted_at);
        update.deletes.push_back(t.id);
    }
    std::sort(versions.begin(), versions.end());
    if (std::adjacent_find(versions.begin(), versions.end()) != versions.end())
        failures.add("a version appears twice in one page");
    if (page.has_more && previous != page.next) failures.add("next of a partial page is not its last version");
    if (page.next < pulled->since.after) failures.add("next went backwards");

    s.sync_version = page.high_water;
    s.last_sync_timestamp = timestamp::now();
    s.cursor = r.mode == follow_mode::timestamp ? (newest.micros ? format_timestamp(newest) : std::string())
                                                 : pulled->next_since;
    update.state = std::move(s);
    counts.records_applied += update.upserts.size() + update.deletes.size();
    if (auto applied = r.store.template apply<E>(update); !applied)
        failures.add("replica apply failed: " + applied.error().message());
    return page.has_more || !versions.empty();
}

template <server_store Store>
void compare(const Store& store, replica<typename Store::entities>& r, version_t high_water, failure_log& failures)
{
    for_each_entity<typename Store::entities>([&]<class E>(std::type_identity<E>) {
        auto expected = store.template list<E>(r.store_id);
        auto actual = r.store.template all<E>();
        if (!expected || !actual) return failures.add("listing failed");
        const std::string where = std::string(entity_type_name<E>) + " replica of store " + std::to_string(r.store_id)
                                + (r.mode == follow_mode::cursor ? " (cursor)" : r.mode == follow_mode::delta ? " (delta)" : " (timestamp)");
        if (expected->size() != actual->size())
            failures.add(where + ": " + std::to_string(actual->size()) + " records, server has " + std::to_string(expected->size()));
        for (std::size_t i = 0; i < std::min(expected->size(), actual->size()); ++i) {
            if (!((*expected)[i]->value == (*actual)[i])) {
                failures.add(where + ": differs, server " + to_json((*expected)[i]->value) + " replica " + to_json((*actual)[i]));
                break;
            }
        }
        auto state = r.store.template state<E>();
        if (r.mode != follow_mode::timestamp && state && *state && (*state)->sync_version != high_water)
            failures.add(where + ": sync_version " + std::to_string((*state)->sync_version) + " after catching up, high water "
                         + std::to_string(high_water));
    });
}

} // namespace detail

/// Runs the convergence check against `store`, which should start empty.
/// Thread-safe use of `store` is required (writers and readers run at once).
template <server_store Store>
conformance_report check_convergence(Store& store, const conformance_options& options = {})
{
    using L = typename Store::entities;
    constexpr std::size_t types = boost::mp11::mp_size<L>::value;
    conformance_report report;
    detail::failure_log failures;
    const auto deadline = std::chrono::steady_clock::now() + options.time_limit;

    std::vector<std::unique_ptr<detail::replica<L>>> replicas;
    for (auto s : options.stores)
        for (int i = 0; i < options.replicas_per_store; ++i) {
            auto r = std::make_unique<detail::replica<L>>();
            r->store_id = s;
            r->mode = static_cast<follow_mode>(replicas.size() % 3);
            replicas.push_back(std::move(r));
        }

    std::vector<std::int64_t> write_stores = options.stores;
    write_stores.push_back(options.stores.empty() ? 1 : options.stores.back() + 1000); // nobody watches it

    std::atomic<bool> writing{true};
    std::atomic<std::uint64_t> pulls_while_writing{0};
    std::vector<std::vector<detail::stamp>> commits(static_cast<std::size_t>(options.writers));
    std::vector<std::thread> writers;
    for (int w = 0; w < options.writers; ++w)
        writers.emplace_back([&, w] {
            detail::run_writer(store, rng(options.seed * 7919 + static_cast<std::uint64_t>(w)), options.operations_per_writer,
                               write_stores, failures, commits[static_cast<std::size_t>(w)], pulls_while_writing, deadline);
        });

    std::vector<conformance_report> counts(static_cast<std::size_t>(options.reader_threads));
    std::vector<std::thread> readers;
    for (int t = 0; t < options.reader_threads; ++t)
        readers.emplace_back([&, t] {
            rng g(options.seed * 104729 + static_cast<std::uint64_t>(t));
            auto& c = counts[static_cast<std::size_t>(t)];
            auto step = [&](detail::replica<L>& r, std::size_t k, std::size_t limit) {
                std::lock_guard lock(r.busy);
                return boost::mp11::mp_with_index<types>(k, [&](auto I) {
                    return detail::pull_once<boost::mp11::mp_at_c<L, I>>(store, r, limit, failures, c);
                });
            };
            while (writing.load() && !failures.any() && std::chrono::steady_clock::now() < deadline) {
                auto& r = *replicas[std::uniform_int_distribution<std::size_t>(0, replicas.size() - 1)(g)];
                step(r, std::uniform_int_distribution<std::size_t>(0, types - 1)(g),
                     std::uniform_int_distribution<std::size_t>(1, options.max_page)(g));
                ++pulls_while_writing;
            }
            // Writers are done: catch every replica this thread owns up, still
            // with random page sizes.
            for (std::size_t i = static_cast<std::size_t>(t); i < replicas.size(); i += static_cast<std::size_t>(options.reader_threads))
                for (std::size_t k = 0; k < types; ++k)
                    while (!failures.any() && std::chrono::steady_clock::now() < deadline
                           && step(*replicas[i], k, std::uniform_int_distribution<std::size_t>(1, options.max_page)(g))) {}
        });

    for (auto& w : writers) w.join();
    writing = false;
    for (auto& r : readers) r.join();
    if (std::chrono::steady_clock::now() >= deadline) failures.add("time limit reached before convergence");

    // Commit order: versions unique, timestamps strictly increasing with version.
    std::vector<detail::stamp> all;
    for (auto& c : commits) {
        report.writes += c.size();
        all.insert(all.end(), c.begin(), c.end());
    }
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < all.size(); ++i)
        if (all[i].version == all[i - 1].version || all[i].at <= all[i - 1].at) {
            failures.add("commit " + std::to_string(all[i].version) + " is not strictly after commit "
                         + std::to_string(all[i - 1].version) + " in version and timestamp");
            break;
        }

    if (!failures.any()) {
        auto high = store.high_water();
        if (!high) failures.add("high_water failed");
        else
            for (auto& r : replicas) detail::compare(store, *r, *high, failures);
    }
    for (auto& c : counts) {
        report.pulls += c.pulls;
        report.records_applied += c.records_applied;
        report.resyncs += c.resyncs;
    }
    report.pulls_while_writing = pulls_while_writing.load();
    report.failures = failures.take();
    return report;
}

} // namespace incsync::testing

#endif
