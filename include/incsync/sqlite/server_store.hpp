// SQLite server store: the durable default (`incsync-pos-server --db FILE`).
//
// A write is one transaction: the record, its change-log entry and the new
// high-water mark commit together, so a server killed at any point restarts
// with every acknowledged write and a log without gaps. Writes are serialized
// (SQLite has one writer); reads run in parallel on a pool of connections, each
// pull in one read snapshot (WAL: readers never wait for the writer). A pull is
// a range scan of the (type, partition, version) index: O(changes returned).
//
// Commit timestamps: versions and timestamps are handed out under the write
// lock, but a commit becomes visible only when COMMIT returns, which may take
// an fsync. A reader's `server_time` is therefore taken below any commit still
// in flight, so a client sending it back as `since` cannot skip that commit.
#ifndef INCSYNC_SQLITE_SERVER_STORE_HPP
#define INCSYNC_SQLITE_SERVER_STORE_HPP

#include <incsync/codec.hpp>
#include <incsync/delta.hpp>
#include <incsync/detail/commit_clock.hpp>
#include <incsync/detail/store_rules.hpp>
#include <incsync/sqlite/detail/connection.hpp>
#include <incsync/sqlite/detail/server_schema.hpp>
#include <incsync/store.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace incsync::sqlite {

using detail::durability;

struct server_store_options {
    /// Tombstones and change-log entries older than this are purged; a `since`
    /// older than a purged tombstone of its type gets `resync_required`.
    std::chrono::microseconds retention = std::chrono::hours(24 * 30);
    /// How often a write checks for anything to purge.
    std::chrono::microseconds purge_interval = std::chrono::seconds(10);
    /// fsync policy of a commit (see `durability`): `full` by default, so an
    /// acknowledged write survives power loss too.
    durability sync = durability::full;
    /// Read connections kept open for reuse; more are opened under load.
    std::size_t idle_readers = 8;
    std::chrono::milliseconds busy_timeout{5000};
    /// A registered SQLite VFS to open the file through (fault injection in tests).
    std::string vfs{};
};

namespace detail {

using incsync::detail::global_partition;
using incsync::detail::in_view;
using incsync::detail::partition_of;

/// A read connection with its statements prepared once.
struct reader {
    connection db;
    statement get, list, type_info, scan, state, version_at, first_logged, newer, log_since;

    result<void> prepare()
    {
        return prepare_each(db, {
            {&get, "SELECT body FROM incsync_records WHERE type = ?1 AND id = ?2 AND deleted_at IS NULL"},
            {&list, "SELECT body, partition FROM incsync_records WHERE type = ?1 AND deleted_at IS NULL ORDER BY id"},
            {&type_info, "SELECT purged_upto, horizon FROM incsync_types WHERE type = ?1"},
            {&scan, "SELECT version, id, created, deleted_at, body, member_versions FROM incsync_records"
                    " WHERE type = ?1 AND partition = ?2 AND version > ?3 ORDER BY version LIMIT ?4"},
            {&state, "SELECT high_water, log_horizon FROM incsync_state"},
            {&version_at, "SELECT version FROM incsync_change_log WHERE committed_at <= ?1"
                          " ORDER BY committed_at DESC LIMIT 1"},
            {&first_logged, "SELECT version FROM incsync_change_log ORDER BY version LIMIT 1"},
            {&newer, "SELECT 1 FROM incsync_records WHERE type = ?1 AND partition = ?2 AND version > ?3 LIMIT 1"},
            {&log_since, "SELECT version, type, id, store_id, change, changed, committed_at"
                         " FROM incsync_change_log WHERE version > ?1 ORDER BY version LIMIT ?2"},
        });
    }
};

/// The write connection with its statements.
struct writer {
    connection db;
    statement state, next_id, set_next_id, row, put_row, log, set_state;
    statement newest_tombstone, drop_tombstones, set_purged, drop_log, set_log_horizon;

    result<void> prepare()
    {
        return prepare_each(db, {
            {&state, "SELECT high_water FROM incsync_state"},
            {&next_id, "SELECT next_id FROM incsync_types WHERE type = ?1"},
            {&set_next_id, "UPDATE incsync_types SET next_id = ?2 WHERE type = ?1"},
            {&row, "SELECT partition, version, created, deleted_at, body, member_versions"
                   " FROM incsync_records WHERE type = ?1 AND id = ?2"},
            {&put_row, "INSERT OR REPLACE INTO incsync_records"
                       " (type, id, partition, version, created, deleted_at, body, member_versions)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
            {&log, "INSERT INTO incsync_change_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
            {&set_state, "UPDATE incsync_state SET high_water = ?1, last_commit_at = ?2"},
            {&newest_tombstone, "SELECT max(version) FROM incsync_records"
                                " WHERE type = ?1 AND deleted_at IS NOT NULL AND deleted_at < ?2"},
            {&drop_tombstones, "DELETE FROM incsync_records WHERE type = ?1 AND deleted_at IS NOT NULL AND deleted_at < ?2"},
            {&set_purged, "UPDATE incsync_types SET purged_upto = max(purged_upto, ?2), horizon = ?3 WHERE type = ?1"},
            {&drop_log, "DELETE FROM incsync_change_log WHERE committed_at < ?1"},
            {&set_log_horizon, "UPDATE incsync_state SET log_horizon = max(log_horizon, ?1)"},
        });
    }
};

} // namespace detail

/// SQLite `server_store` over the entity types of `Entities`, in one file.
/// Thread-safe: every member function may be called concurrently. One server
/// process per file: the write path assumes no other process writes.
template <entity_list_like Entities>
class server_store {
public:
    using entities = Entities;

    /// Opens (creating if needed) and upgrades the store in `path`. Errors
    /// name the file and the cause: not a database, another kind of file, a
    /// newer schema, no permission, no space.
    static result<std::unique_ptr<server_store>> open(std::string path, server_store_options options = {})
    {
        if (path.empty() || path == ":memory:" || path.starts_with("file::memory:"))
            return detail::failure("open the SQLite store", "it needs a file; memory::server_store is the in-memory store");
        std::unique_ptr<server_store> s(new server_store(std::move(path), std::move(options)));
        if (auto r = s->start(); !r) return r.error();
        return s;
    }

    server_store(const server_store&) = delete;
    server_store& operator=(const server_store&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::uint64_t epoch() const noexcept { return epoch_; }
    result<version_t> high_water() const { return version_.load(std::memory_order_acquire); }

    /// Counted from the first entry kept, not by a scan: each commit logs one
    /// entry at the next version and a purge drops a prefix, so the versions
    /// kept are contiguous.
    result<change_log_stats> log_stats() const
    {
        auto snap = snapshot();
        if (!snap) return snap.error();
        detail::reader& r = *snap->conn;
        const auto [high_water, log_horizon] = snap->high;
        change_log_stats out{0, high_water, log_horizon};
        auto u = r.first_logged.start();
        auto row = r.first_logged.step("read the change log");
        if (!row) return row.error();
        if (*row) out.entries = high_water - static_cast<version_t>(r.first_logged.integer(0)) + 1;
        return out;
    }

    /// The server's clock, safe to give to clients as a `since`.
    timestamp now() const { return server_time(); }

    template <entity E>
    result<commit<E>> create(const E& value)
    {
        return write<E>([&](detail::writer& w, auto stamp) -> result<commit<E>> {
            const std::string_view type = entity_type_name<E>;
            E v = value;
            {
                auto u = w.next_id.start();
                w.next_id.bind(1, type);
                auto row = w.next_id.step("read the next id");
                if (!row) return row.error();
                v.id = *row ? w.next_id.integer(0) : 1;
            }
            {
                auto u = w.set_next_id.start();
                w.set_next_id.bind(1, type);
                w.set_next_id.bind(2, v.id + 1);
                if (auto r = w.set_next_id.run("advance the next id"); !r) return r.error();
            }
            const auto s = stamp();
            v.updated_at = s.at;
            std::array<version_t, member_count<E>> versions;
            versions.fill(s.version);
            auto rec = make_record(std::move(v));
            if (auto r = put_row<E>(w, rec->value.id, detail::partition_of(rec->value), s.version, s.version, {}, rec->json, versions); !r)
                return r.error();
            const change c{s.version, entity_type_name<E>, rec->value.id, store_of(rec->value), change_type::create,
                           member_set::first(member_count<E>), s.at};
            return commit<E>{c, std::move(rec)};
        });
    }

    template <entity E>
    result<commit<E>> update(std::int64_t id, const E& value, member_set members)
    {
        return write<E>([&](detail::writer& w, auto stamp) -> result<commit<E>> {
            auto found = read_row<E>(w, id);
            if (!found) return found.error();
            if (!*found || (*found)->deleted) return error::not_found;
            auto& row = **found;
            const E& old = row.current->value;
            auto updated = incsync::detail::updated_record(old, value, members);
            if (!updated) return updated.error();
            auto& [next, changed] = *updated;
            if (changed.empty()) return incsync::detail::unchanged<E>(row.version, id, row.current);
            const auto s = stamp();
            next.updated_at = s.at;
            incsync::detail::mark_changed<E>(changed, row.member_versions, s.version);
            auto rec = make_record(std::move(next));
            if (auto r = put_row<E>(w, id, row.partition, s.version, row.created, {}, rec->json, row.member_versions); !r)
                return r.error();
            const change c{s.version, entity_type_name<E>, id, store_of(rec->value), change_type::update, changed, s.at};
            return commit<E>{c, std::move(rec)};
        });
    }

    template <entity E>
    result<commit<E>> remove(std::int64_t id)
    {
        return write<E>([&](detail::writer& w, auto stamp) -> result<commit<E>> {
            auto found = read_row<E>(w, id);
            if (!found) return found.error();
            if (!*found || (*found)->deleted) return error::not_found;
            auto& row = **found;
            const auto s = stamp();
            if (auto r = put_row<E>(w, id, row.partition, s.version, row.created, s.at, std::nullopt, row.member_versions); !r)
                return r.error();
            const change c{s.version, entity_type_name<E>, id, store_of(row.current->value), change_type::remove, {}, s.at};
            return commit<E>{c, nullptr};
        });
    }

    template <entity E>
    result<record_ptr<E>> get(std::int64_t id) const
    {
        auto conn = borrow();
        if (!conn) return conn.error();
        auto& s = (*conn)->get;
        auto u = s.start();
        s.bind(1, entity_type_name<E>);
        s.bind(2, id);
        auto row = s.step("read a record");
        if (!row) return row.error();
        if (!*row) return error::not_found;
        return decode<E>(s.text(0));
    }

    template <entity E>
    result<std::vector<record_ptr<E>>> list(std::optional<std::int64_t> store) const
    {
        auto conn = borrow();
        if (!conn) return conn.error();
        auto& s = (*conn)->list;
        auto u = s.start();
        s.bind(1, entity_type_name<E>);
        std::vector<record_ptr<E>> out;
        for (;;) {
            auto row = s.step("list records");
            if (!row) return row.error();
            if (!*row) break;
            if (!detail::in_view<E>(s.integer(1), store)) continue;
            auto rec = decode<E>(s.text(0));
            if (!rec) return rec.error();
            out.push_back(std::move(*rec));
        }
        return out;
    }

    template <entity E>
    result<change_page<E>> changes(const change_query& q) const
    {
        if (entity_scope<E> == scope::store && !q.store_id) return error::store_id_required;
        const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, max_page_limit);
        change_page<E> page;
        page.server_time = server_time(); // before the snapshot: see the header comment
        auto snap = snapshot();
        if (!snap) return snap.error();
        detail::reader& r = *snap->conn;
        const std::string_view type = entity_type_name<E>;
        {
            auto purged = purge_state(r, type);
            if (!purged) return purged.error();
            if (q.after > 0 && q.after < purged->first)
                return error_info(error::resync_required, "tombstones after this cursor were purged");
            page.retention_horizon = purged->second;
        }
        // Each partition of the view (global, the store's) in version order,
        // at most `limit` entries each, merged; one more tells if there is more.
        struct entry {
            version_t version;
            std::int64_t id;
            version_t created;
            std::optional<std::int64_t> deleted_at;
            std::string body;
            std::string versions;
        };
        std::vector<entry> entries;
        auto scan = [&](std::int64_t partition) -> result<void> {
            auto u = r.scan.start();
            r.scan.bind(1, type);
            r.scan.bind(2, partition);
            r.scan.bind(3, static_cast<std::int64_t>(q.after));
            r.scan.bind(4, static_cast<std::int64_t>(limit + 1));
            for (;;) {
                auto row = r.scan.step("read changes");
                if (!row) return row.error();
                if (!*row) return {};
                entries.push_back({static_cast<version_t>(r.scan.integer(0)), r.scan.integer(1),
                                   static_cast<version_t>(r.scan.integer(2)), r.scan.optional_integer(3),
                                   std::string(r.scan.text(4)), std::string(r.scan.blob(5))});
            }
        };
        if (entity_scope<E> != scope::store)
            if (auto s = scan(detail::global_partition); !s) return s.error();
        if (entity_scope<E> != scope::global && q.store_id)
            if (auto s = scan(*q.store_id); !s) return s.error();
        std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.version < b.version; });
        page.has_more = entries.size() > limit;
        if (page.has_more) entries.resize(limit);

        page.changes.reserve(entries.size());
        for (auto& e : entries) {
            if (e.deleted_at) {
                page.deleted.push_back({e.id, timestamp{*e.deleted_at}, e.version});
                continue;
            }
            auto rec = decode<E>(std::move(e.body));
            if (!rec) return rec.error();
            page.changes.push_back(incsync::detail::entry_since(
                e.version, std::move(*rec), e.created, incsync::detail::decode_versions<member_count<E>>(e.versions), q.base));
        }
        page.next = page.has_more ? entries.back().version : std::max(q.after, snap->high.first);
        page.high_water = page.next;
        return page;
    }

    template <entity E>
    result<version_t> version_at(timestamp t) const
    {
        if (t > clock_.observe()) return error::since_in_future;
        auto snap = snapshot();
        if (!snap) return snap.error();
        detail::reader& r = *snap->conn;
        const auto [high_water, log_horizon] = snap->high;
        if (t < log_horizon) {
            auto purged = purge_state(r, entity_type_name<E>);
            if (!purged) return purged.error();
            if (purged->first > 0) return error_info(error::resync_required, "since is older than the retention horizon");
            return version_t{0}; // nothing of E was purged: a full resend is exact
        }
        {
            auto u = r.version_at.start();
            r.version_at.bind(1, t.micros);
            auto row = r.version_at.step("map a timestamp to a version");
            if (!row) return row.error();
            if (*row) return static_cast<version_t>(r.version_at.integer(0));
        }
        auto u = r.first_logged.start();
        auto row = r.first_logged.step("read the change log");
        if (!row) return row.error();
        if (!*row) return high_water;
        return static_cast<version_t>(r.first_logged.integer(0)) - 1;
    }

    result<changed_types> changed_since(version_t after, std::optional<std::int64_t> store) const
    {
        changed_types out;
        out.server_time = server_time(); // before the snapshot: see the header comment
        auto snap = snapshot();
        if (!snap) return snap.error();
        detail::reader& r = *snap->conn;
        result<void> failed;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            if (!failed) return;
            auto newer = [&](std::int64_t partition) -> result<bool> {
                auto u = r.newer.start();
                r.newer.bind(1, entity_type_name<E>);
                r.newer.bind(2, partition);
                r.newer.bind(3, static_cast<std::int64_t>(after));
                return r.newer.step("look for changes");
            };
            bool changed = false;
            auto check = [&](std::int64_t partition) {
                auto n = newer(partition);
                if (!n) failed = n.error();
                else changed = changed || *n;
            };
            if (entity_scope<E> != scope::store) check(detail::global_partition);
            if (entity_scope<E> != scope::global && store) check(*store);
            if (!changed) {
                auto purged = purge_state(r, entity_type_name<E>);
                if (!purged) failed = purged.error();
                else changed = after < purged->first;
            }
            if (changed) out.types.push_back(entity_type_name<E>);
        });
        if (!failed) return failed.error();
        out.next = snap->high.first;
        return out;
    }

    /// Change-log entries after `after`, oldest first, at most `limit`.
    result<std::vector<change>> log_since(version_t after, std::size_t limit = max_page_limit) const
    {
        auto conn = borrow();
        if (!conn) return conn.error();
        auto& s = (*conn)->log_since;
        auto u = s.start();
        s.bind(1, static_cast<std::int64_t>(after));
        s.bind(2, static_cast<std::int64_t>(limit));
        std::vector<change> out;
        for (;;) {
            auto row = s.step("read the change log");
            if (!row) return row.error();
            if (!*row) return out;
            auto c = incsync::detail::logged_change<Entities>(
                static_cast<version_t>(s.integer(0)), s.text(1), s.integer(2), s.optional_integer(3), s.text(4),
                static_cast<std::uint64_t>(s.integer(5)), timestamp{s.integer(6)});
            if (!c) return detail::failure("read the change log", "unknown change type");
            out.push_back(*c);
        }
    }

    /// Drops tombstones and change-log entries committed before `horizon`.
    /// Writes call this on their own every `purge_interval` with
    /// `now - retention`; tests and operators may call it directly.
    result<void> purge(timestamp horizon)
    {
        std::lock_guard lock(write_mutex_);
        auto tx = detail::transaction::begin(writer_.db, detail::transaction::kind::immediate);
        if (!tx) return tx.error();
        if (auto r = purge_locked(horizon); !r) return r;
        return tx->commit();
    }

private:
    using stamp_t = incsync::detail::commit_stamp;
    template <entity E>
    using stored_row = incsync::detail::stored_row<E>;

    server_store(std::string path, server_store_options options)
        : path_(std::move(path)), options_(std::move(options)),
          readers_(path_, {.busy_timeout = options_.busy_timeout, .vfs = options_.vfs}, options_.idle_readers)
    {
    }

    result<void> start()
    {
        auto c = detail::connection::open(path_, {.busy_timeout = options_.busy_timeout, .vfs = options_.vfs});
        if (!c) return c.error();
        writer_.db = std::move(*c);
        if (auto r = detail::configure_writer(writer_.db, options_.sync, path_); !r) return r;
        if (auto r = detail::migrate(writer_.db, detail::server_schema, path_); !r) return r.error();
        if (auto r = writer_.prepare(); !r) return r;
        // Every entity type gets its row (types added to `Entities` since too).
        auto add = writer_.db.prepare("INSERT OR IGNORE INTO incsync_types (type) VALUES (?1)");
        if (!add) return add.error();
        result<void> added;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            auto u = add->start();
            add->bind(1, entity_type_name<E>);
            if (auto r = add->run("register entity types"); !r && added) added = r;
        });
        if (!added) return added;
        auto state = writer_.db.prepare("SELECT epoch, high_water, last_commit_at FROM incsync_state");
        if (!state) return state.error();
        auto u = state->start();
        auto row = state->step("read the store state");
        if (!row) return row.error();
        if (!*row) return detail::failure(path_, "the store state row is missing");
        epoch_ = static_cast<std::uint64_t>(state->integer(0));
        version_.store(static_cast<version_t>(state->integer(1)));
        // Timestamps keep increasing across restarts even if the wall clock stepped back.
        clock_.raise_to(timestamp{state->integer(2)});
        last_purge_ = timestamp{0};
        // Fail now, not on the first request, if no reader can open.
        auto conn = borrow();
        if (!conn) return conn.error();
        return {};
    }

    template <entity E>
    static result<record_ptr<E>> decode(std::string body)
    {
        auto v = from_json_text<E>(body, lenient_decode);
        if (!v) return detail::failure(std::string("a stored ") + std::string(entity_type_name<E>) + " does not decode",
                                       v.error().message());
        return make_record(std::move(*v), std::move(body));
    }
    template <entity E>
    static result<record_ptr<E>> decode(std::string_view body)
    {
        return decode<E>(std::string(body));
    }

    template <entity E>
    result<std::optional<stored_row<E>>> read_row(detail::writer& w, std::int64_t id)
    {
        auto u = w.row.start();
        w.row.bind(1, entity_type_name<E>);
        w.row.bind(2, id);
        auto found = w.row.step("read a record");
        if (!found) return found.error();
        if (!*found) return std::optional<stored_row<E>>{};
        stored_row<E> row;
        row.partition = w.row.integer(0);
        row.version = static_cast<version_t>(w.row.integer(1));
        row.created = static_cast<version_t>(w.row.integer(2));
        row.deleted = !w.row.is_null(3);
        row.member_versions = incsync::detail::decode_versions<member_count<E>>(w.row.blob(5));
        if (!row.deleted) {
            auto rec = decode<E>(w.row.text(4));
            if (!rec) return rec.error();
            row.current = std::move(*rec);
        }
        return std::optional<stored_row<E>>{std::move(row)};
    }

    template <entity E>
    result<void> put_row(detail::writer& w, std::int64_t id, std::int64_t partition, version_t version, version_t created,
                         std::optional<timestamp> deleted_at, std::optional<std::string_view> body,
                         const std::array<version_t, member_count<E>>& versions)
    {
        const std::string blob = incsync::detail::encode_versions(versions);
        auto u = w.put_row.start();
        w.put_row.bind(1, entity_type_name<E>);
        w.put_row.bind(2, id);
        w.put_row.bind(3, partition);
        w.put_row.bind(4, static_cast<std::int64_t>(version));
        w.put_row.bind(5, static_cast<std::int64_t>(created));
        if (deleted_at) w.put_row.bind(6, deleted_at->micros);
        else w.put_row.bind_null(6);
        if (body) w.put_row.bind(7, *body);
        else w.put_row.bind_null(7);
        w.put_row.bind_blob(8, blob);
        return w.put_row.run("write a record");
    }

    // Runs `fn(writer, stamp)` in a write transaction and, unless it changed
    // nothing, logs its change, advances the high-water mark and commits.
    // `stamp()` hands out the commit's version and timestamp.
    template <entity E, class Fn>
    result<commit<E>> write(Fn&& fn)
    {
        std::lock_guard lock(write_mutex_);
        struct in_flight_guard {
            server_store* s;
            ~in_flight_guard()
            {
                std::lock_guard g(s->stamp_mutex_);
                s->in_flight_ = 0;
            }
        } guard{this}; // declared before the transaction: cleared after COMMIT or ROLLBACK
        auto tx = detail::transaction::begin(writer_.db, detail::transaction::kind::immediate);
        if (!tx) return tx.error();
        version_t high = 0;
        {
            auto u = writer_.state.start();
            auto row = writer_.state.step("read the high-water mark");
            if (!row) return row.error();
            high = static_cast<version_t>(writer_.state.integer(0));
        }
        auto stamp = [&] {
            std::lock_guard g(stamp_mutex_);
            const timestamp at = clock_.next();
            in_flight_ = at.micros;
            return stamp_t{high + 1, at};
        };
        auto r = fn(writer_, stamp);
        if (!r || r->is_noop()) return r; // the transaction rolls back: nothing was written
        const change& c = r->change;
        {
            auto u = writer_.log.start();
            writer_.log.bind(1, static_cast<std::int64_t>(c.version));
            writer_.log.bind(2, c.entity_type);
            writer_.log.bind(3, c.id);
            writer_.log.bind(4, c.store_id);
            writer_.log.bind(5, to_string(c.type));
            writer_.log.bind(6, static_cast<std::int64_t>(c.changed.bits()));
            writer_.log.bind(7, c.committed_at.micros);
            if (auto w = writer_.log.run("append to the change log"); !w) return w.error();
        }
        {
            auto u = writer_.set_state.start();
            writer_.set_state.bind(1, static_cast<std::int64_t>(c.version));
            writer_.set_state.bind(2, c.committed_at.micros);
            if (auto w = writer_.set_state.run("advance the high-water mark"); !w) return w.error();
        }
        if (c.committed_at.micros - last_purge_.micros >= options_.purge_interval.count())
            if (auto p = purge_locked(timestamp{c.committed_at.micros - options_.retention.count()}); !p) return p.error();
        // Raised before COMMIT so it never lags what a reader's snapshot shows
        // (it bounds the cursors `pull` accepts); put back if COMMIT fails.
        version_.store(c.version, std::memory_order_release);
        if (auto w = tx->commit(); !w) {
            version_.store(high, std::memory_order_release);
            return w.error();
        }
        return r;
    }

    result<void> purge_locked(timestamp horizon)
    {
        last_purge_ = clock_.last();
        result<void> out;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            if (!out) return;
            const std::string_view type = entity_type_name<E>;
            std::optional<std::int64_t> newest;
            {
                auto u = writer_.newest_tombstone.start();
                writer_.newest_tombstone.bind(1, type);
                writer_.newest_tombstone.bind(2, horizon.micros);
                auto row = writer_.newest_tombstone.step("find old tombstones");
                if (!row) return void(out = row.error());
                newest = writer_.newest_tombstone.optional_integer(0);
            }
            if (!newest) return;
            auto u1 = writer_.drop_tombstones.start();
            writer_.drop_tombstones.bind(1, type);
            writer_.drop_tombstones.bind(2, horizon.micros);
            if (auto r = writer_.drop_tombstones.run("purge tombstones"); !r) return void(out = r);
            auto u2 = writer_.set_purged.start();
            writer_.set_purged.bind(1, type);
            writer_.set_purged.bind(2, *newest);
            writer_.set_purged.bind(3, horizon.micros);
            if (auto r = writer_.set_purged.run("record the purge"); !r) out = r;
        });
        if (!out) return out;
        auto u1 = writer_.drop_log.start();
        writer_.drop_log.bind(1, horizon.micros);
        if (auto r = writer_.drop_log.run("purge the change log"); !r) return r;
        auto u2 = writer_.set_log_horizon.start();
        writer_.set_log_horizon.bind(1, horizon.micros);
        return writer_.set_log_horizon.run("record the purge");
    }

    /// A `server_time` for a read about to start its snapshot: every commit
    /// at or before it is visible to that snapshot.
    timestamp server_time() const
    {
        std::lock_guard g(stamp_mutex_);
        const timestamp now = clock_.observe();
        return in_flight_ ? timestamp{in_flight_ - 1} : now;
    }

    /// The type's newest purged tombstone (older cursors resync) and the
    /// purge cutoff that set it; (0, epoch start) if nothing was purged.
    static result<std::pair<version_t, timestamp>> purge_state(detail::reader& r, std::string_view type)
    {
        auto u = r.type_info.start();
        r.type_info.bind(1, type);
        auto row = r.type_info.step("read the retention horizon");
        if (!row) return row.error();
        if (!*row) return std::pair{version_t{0}, timestamp{}};
        return std::pair{static_cast<version_t>(r.type_info.integer(0)), timestamp{r.type_info.integer(1)}};
    }

    /// A read connection in a read transaction: one consistent view across
    /// several queries, started by reading the high-water mark and the
    /// change-log horizon.
    struct read_snapshot {
        detail::reader_pool<detail::reader>::lease conn;
        detail::transaction tx;
        std::pair<version_t, timestamp> high; ///< high-water mark, change-log horizon
    };

    result<read_snapshot> snapshot() const
    {
        auto conn = readers_.borrow();
        if (!conn) return conn.error();
        detail::reader& r = **conn;
        auto tx = detail::transaction::begin(r.db, detail::transaction::kind::deferred);
        if (!tx) return tx.error();
        auto u = r.state.start();
        auto row = r.state.step("read the high-water mark");
        if (!row) return row.error();
        if (!*row) return detail::failure("read the high-water mark", "the store state row is missing");
        std::pair high{static_cast<version_t>(r.state.integer(0)), timestamp{r.state.integer(1)}};
        return read_snapshot{std::move(*conn), std::move(*tx), high};
    }

    auto borrow() const { return readers_.borrow(); }

    std::string path_;
    server_store_options options_;
    std::uint64_t epoch_ = 0;
    std::atomic<version_t> version_{0};

    std::mutex write_mutex_; ///< one writer at a time (SQLite's rule too)
    detail::writer writer_;
    timestamp last_purge_;

    mutable std::mutex stamp_mutex_; ///< pairs clock readings with the commit in flight
    mutable incsync::detail::commit_clock clock_;
    std::int64_t in_flight_ = 0; ///< timestamp of the commit between stamp and COMMIT, 0 if none

    detail::reader_pool<detail::reader> readers_;
};

} // namespace incsync::sqlite

#endif
