// In-memory server store: the reference backend, used by tests, benchmarks and
// `--db :memory:`. One reader-writer lock; writes are short critical sections
// (no I/O inside), reads of different views proceed in parallel.
#ifndef INCSYNC_MEMORY_SERVER_STORE_HPP
#define INCSYNC_MEMORY_SERVER_STORE_HPP

#include <incsync/delta.hpp>
#include <incsync/detail/commit_clock.hpp>
#include <incsync/detail/store_rules.hpp>
#include <incsync/store.hpp>

#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace incsync::memory {

struct server_store_options {
    /// Tombstones and change-log entries older than this are purged; a `since`
    /// older than a purged tombstone of its type gets `resync_required`.
    std::chrono::microseconds retention = std::chrono::hours(24 * 30);
    /// How often a write checks for anything to purge.
    std::chrono::microseconds purge_interval = std::chrono::seconds(10);
    /// Identity of this store's data; random when absent, so cursors of a
    /// previous run of an in-memory server get resync_required.
    std::optional<std::uint64_t> epoch{};
    /// Deliberately broken commit ordering (version and timestamp taken before
    /// the commit lock), so the conformance kit can prove it catches that bug.
    /// Never set it otherwise.
    bool unsafe_version_outside_lock = false;
};

namespace detail {

using incsync::detail::global_partition;
using incsync::detail::partition_of;

template <entity E>
struct table {
    struct row {
        record_ptr<E> current; ///< null once deleted
        version_t version = 0; ///< of the latest change: the row's key in `by_seq`
        version_t created = 0;
        std::array<version_t, member_count<E>> member_versions{}; ///< last change of each member
        std::int64_t partition = global_partition;
        timestamp deleted_at;
        bool deleted = false;
    };

    std::unordered_map<std::int64_t, row> rows;
    /// The by-sequence index, per partition (store, or global): each live or
    /// deleted record once, at its latest version. A pull is a range scan here.
    std::unordered_map<std::int64_t, std::map<version_t, std::int64_t>> by_seq;
    std::deque<std::int64_t> tombstones; ///< deleted ids in deletion order
    std::int64_t next_id = 1;
    version_t purged_upto = 0; ///< newest purged tombstone: older cursors must resync
    timestamp horizon;         ///< the purge cutoff that set `purged_upto`
};

inline std::uint64_t random_epoch()
{
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
}

} // namespace detail

/// In-memory `server_store` over the entity types of `Entities`.
/// Thread-safe: every member function may be called concurrently.
template <entity_list_like Entities>
class server_store {
public:
    using entities = Entities;

    explicit server_store(server_store_options options = {})
        : options_(options), epoch_(options.epoch.value_or(detail::random_epoch()))
    {
    }

    server_store(const server_store&) = delete;
    server_store& operator=(const server_store&) = delete;

    std::uint64_t epoch() const noexcept { return epoch_; }

    result<version_t> high_water() const
    {
        std::shared_lock lock(mutex_);
        return version_.load(std::memory_order_relaxed);
    }

    result<change_log_stats> log_stats() const
    {
        std::shared_lock lock(mutex_);
        return change_log_stats{log_.size(), version_.load(std::memory_order_relaxed), log_horizon_};
    }

    /// The server's clock, safe to give to clients as a `since`.
    timestamp now() const noexcept { return clock_.observe(); }

    template <entity E>
    result<commit<E>> create(const E& value)
    {
        return write<E>([&](detail::table<E>& t, auto stamp) -> result<commit<E>> {
            E v = value;
            v.id = t.next_id++;
            const auto s = stamp();
            v.updated_at = s.at;
            auto& row = t.rows[v.id];
            row.created = s.version;
            row.member_versions.fill(s.version);
            row.partition = detail::partition_of(v);
            const change c{s.version, entity_type_name<E>, v.id, store_of(v), change_type::create,
                           member_set::first(member_count<E>), s.at};
            row.current = make_record(std::move(v));
            move_in_index(t, row, c.id, s.version);
            return commit<E>{c, row.current};
        });
    }

    template <entity E>
    result<commit<E>> update(std::int64_t id, const E& value, member_set members)
    {
        return write<E>([&](detail::table<E>& t, auto stamp) -> result<commit<E>> {
            auto it = t.rows.find(id);
            if (it == t.rows.end() || it->second.deleted) return error::not_found;
            auto& row = it->second;
            const E& old = row.current->value;
            auto updated = incsync::detail::updated_record(old, value, members);
            if (!updated) return updated.error();
            auto& [next, changed] = *updated;
            if (changed.empty()) return incsync::detail::unchanged<E>(row.version, id, row.current);
            const auto s = stamp();
            next.updated_at = s.at;
            incsync::detail::mark_changed<E>(changed, row.member_versions, s.version);
            const change c{s.version, entity_type_name<E>, id, store_of(next), change_type::update, changed, s.at};
            row.current = make_record(std::move(next));
            move_in_index(t, row, id, s.version);
            return commit<E>{c, row.current};
        });
    }

    template <entity E>
    result<commit<E>> remove(std::int64_t id)
    {
        return write<E>([&](detail::table<E>& t, auto stamp) -> result<commit<E>> {
            auto it = t.rows.find(id);
            if (it == t.rows.end() || it->second.deleted) return error::not_found;
            auto& row = it->second;
            const auto s = stamp();
            const change c{s.version, entity_type_name<E>, id, store_of(row.current->value), change_type::remove, {}, s.at};
            row.deleted = true;
            row.deleted_at = s.at;
            row.current.reset();
            move_in_index(t, row, id, s.version);
            t.tombstones.push_back(id);
            return commit<E>{c, nullptr};
        });
    }

    template <entity E>
    result<record_ptr<E>> get(std::int64_t id) const
    {
        std::shared_lock lock(mutex_);
        const auto& t = table_of<E>();
        auto it = t.rows.find(id);
        if (it == t.rows.end() || it->second.deleted) return error::not_found;
        return it->second.current;
    }

    template <entity E>
    result<std::vector<record_ptr<E>>> list(std::optional<std::int64_t> store) const
    {
        std::vector<record_ptr<E>> out;
        {
            std::shared_lock lock(mutex_);
            for (const auto& [id, row] : table_of<E>().rows)
                if (!row.deleted && incsync::detail::in_view<E>(row.partition, store)) out.push_back(row.current);
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->value.id < b->value.id; });
        return out;
    }

    template <entity E>
    result<change_page<E>> changes(const change_query& q) const
    {
        if (entity_scope<E> == scope::store && !q.store_id) return error::store_id_required;
        const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, max_page_limit);
        change_page<E> page;
        std::shared_lock lock(mutex_);
        const auto& t = table_of<E>();
        if (q.after > 0 && q.after < t.purged_upto)
            return error_info(error::resync_required, "tombstones after this cursor were purged");

        // Merge the (at most two) partitions of the view by version.
        using index = std::map<version_t, std::int64_t>;
        std::array<index::const_iterator, 2> pos{}, end{};
        std::size_t n = 0;
        auto add = [&](std::int64_t partition) {
            if (auto it = t.by_seq.find(partition); it != t.by_seq.end()) {
                pos[n] = it->second.upper_bound(q.after);
                end[n++] = it->second.end();
            }
        };
        if (entity_scope<E> != scope::store) add(detail::global_partition);
        if (entity_scope<E> != scope::global && q.store_id) add(*q.store_id);

        page.changes.reserve(std::min<std::size_t>(limit, 256));
        version_t last = q.after;
        for (std::size_t emitted = 0; emitted < limit; ++emitted) {
            std::size_t pick = n;
            for (std::size_t k = 0; k < n; ++k)
                if (pos[k] != end[k] && (pick == n || pos[k]->first < pos[pick]->first)) pick = k;
            if (pick == n) break;
            const auto [version, id] = *pos[pick]++;
            const auto& row = t.rows.at(id);
            last = version;
            if (row.deleted) {
                page.deleted.push_back({id, row.deleted_at, version});
                continue;
            }
            page.changes.push_back(incsync::detail::entry_since(version, row.current, row.created, row.member_versions, q.base));
        }
        for (std::size_t k = 0; k < n; ++k) page.has_more = page.has_more || pos[k] != end[k];
        page.next = page.has_more ? last : std::max(q.after, version_.load(std::memory_order_acquire));
        page.high_water = page.next;
        page.retention_horizon = t.horizon;
        page.server_time = clock_.observe();
        return page;
    }

    template <entity E>
    result<version_t> version_at(timestamp t) const
    {
        std::shared_lock lock(mutex_);
        if (t > clock_.observe()) return error::since_in_future;
        if (t < log_horizon_) {
            if (table_of<E>().purged_upto > 0)
                return error_info(error::resync_required, "since is older than the retention horizon");
            return version_t{0}; // nothing of E was purged: a full resend is exact
        }
        auto it = std::upper_bound(log_.begin(), log_.end(), t,
                                   [](timestamp x, const change& c) { return x < c.committed_at; });
        if (it != log_.begin()) return std::prev(it)->version;
        if (log_.empty()) return version_.load(std::memory_order_acquire);
        return log_.front().version - 1;
    }

    result<changed_types> changed_since(version_t after, std::optional<std::int64_t> store) const
    {
        changed_types out;
        std::shared_lock lock(mutex_);
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            const auto& t = table_of<E>();
            auto newer = [&](std::int64_t partition) {
                auto it = t.by_seq.find(partition);
                return it != t.by_seq.end() && !it->second.empty() && it->second.rbegin()->first > after;
            };
            bool changed = false;
            if (entity_scope<E> != scope::store) changed = newer(detail::global_partition);
            if (entity_scope<E> != scope::global && store) changed = changed || newer(*store);
            if (changed || after < t.purged_upto) out.types.push_back(entity_type_name<E>);
        });
        out.next = version_.load(std::memory_order_acquire);
        out.server_time = clock_.observe();
        return out;
    }

    /// Change-log entries after `after`, oldest first, at most `limit`.
    result<std::vector<change>> log_since(version_t after, std::size_t limit = max_page_limit) const
    {
        std::shared_lock lock(mutex_);
        std::vector<change> out;
        auto it = std::upper_bound(log_.begin(), log_.end(), after,
                                   [](version_t v, const change& c) { return v < c.version; });
        for (; it != log_.end() && out.size() < limit; ++it) out.push_back(*it);
        return out;
    }

    /// Drops tombstones and change-log entries committed before `horizon`.
    /// Writes call this on their own every `purge_interval` with
    /// `now - retention`; tests and operators may call it directly.
    void purge(timestamp horizon)
    {
        std::unique_lock lock(mutex_);
        purge_locked(horizon);
    }

private:
    struct stamp_t {
        version_t version = 0;
        timestamp at;
    };

    template <entity E>
    detail::table<E>& table_of() noexcept { return std::get<detail::table<E>>(tables_); }
    template <entity E>
    const detail::table<E>& table_of() const noexcept { return std::get<detail::table<E>>(tables_); }

    template <entity E>
    static void move_in_index(detail::table<E>& t, typename detail::table<E>::row& row, std::int64_t id, version_t v)
    {
        auto& index = t.by_seq[row.partition];
        if (row.version) index.erase(row.version);
        row.version = v;
        index.emplace_hint(index.end(), v, id);
    }

    // Runs `fn(table, stamp)` under the write lock; `stamp()` hands out the
    // commit's version and timestamp, so both follow commit order.
    template <entity E, class Fn>
    result<commit<E>> write(Fn&& fn)
    {
        stamp_t early;
        if (options_.unsafe_version_outside_lock) {
            early = {version_.fetch_add(1, std::memory_order_acq_rel) + 1, clock_.next()};
            std::this_thread::yield();
        }
        std::unique_lock lock(mutex_);
        auto stamp = [&] {
            if (early.version) return early;
            const version_t v = version_.load(std::memory_order_relaxed) + 1;
            version_.store(v, std::memory_order_release);
            return stamp_t{v, clock_.next()};
        };
        auto r = fn(table_of<E>(), stamp);
        if (r && !r->is_noop()) {
            if (options_.unsafe_version_outside_lock) {
                // Keep the log sorted so version_at still works; the bug under
                // test is visibility order, not log order.
                auto at = std::upper_bound(log_.begin(), log_.end(), r->change.version,
                                           [](version_t v, const change& c) { return v < c.version; });
                log_.insert(at, r->change);
            } else {
                log_.push_back(r->change);
            }
            if (r->change.committed_at.micros - last_purge_.micros >= options_.purge_interval.count())
                purge_locked(timestamp{r->change.committed_at.micros - options_.retention.count()});
        }
        return r;
    }

    void purge_locked(timestamp horizon)
    {
        last_purge_ = clock_.last();
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            auto& t = table_of<E>();
            bool purged = false;
            while (!t.tombstones.empty()) {
                auto it = t.rows.find(t.tombstones.front());
                if (it->second.deleted_at >= horizon) break;
                t.purged_upto = std::max(t.purged_upto, it->second.version);
                t.by_seq[it->second.partition].erase(it->second.version);
                t.rows.erase(it);
                t.tombstones.pop_front();
                purged = true;
            }
            if (purged) t.horizon = horizon;
        });
        while (!log_.empty() && log_.front().committed_at < horizon) log_.pop_front();
        log_horizon_ = std::max(log_horizon_, horizon);
    }

    mutable std::shared_mutex mutex_;
    server_store_options options_;
    std::uint64_t epoch_;
    std::atomic<version_t> version_{0};
    mutable incsync::detail::commit_clock clock_;
    boost::mp11::mp_rename<boost::mp11::mp_transform<detail::table, Entities>, std::tuple> tables_;
    std::deque<change> log_;
    timestamp log_horizon_;
    timestamp last_purge_;
};

} // namespace incsync::memory

#endif
