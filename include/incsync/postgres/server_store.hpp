// PostgreSQL server store: one database shared by several server instances
// (`incsync-pos-server --db postgresql://...`).
//
// A write is one transaction: the record, its change-log entry and the new
// high-water mark commit together. Every write first locks the one state row
// and takes the next version and a commit timestamp from it, so commits are
// serialized across all instances in version order, versions have no gaps,
// and a reader whose snapshot shows version N shows every version before it.
// That is what makes cursors exact: PostgreSQL hands out sequence values at
// insert, not at commit, so a `version > since` scan over a sequence would
// skip a transaction that took its value earlier and committed later. The
// price is one writer at a time across the cluster, about one round trip per
// statement of a write; docs/operations.md says when that matters.
//
// Reads run on a pool of connections and never wait for writers; a pull is
// one statement (one snapshot, one round trip), the rarer reads that take
// several queries run in one REPEATABLE READ snapshot. A reader's `server_time` is the
// timestamp of the last commit its snapshot shows: every later commit,
// whichever instance made it, has a greater one (commit timestamps come from
// the state row, under its lock, from the database server's clock).
#ifndef INCSYNC_POSTGRES_SERVER_STORE_HPP
#define INCSYNC_POSTGRES_SERVER_STORE_HPP

#include <incsync/codec.hpp>
#include <incsync/delta.hpp>
#include <incsync/detail/commit_clock.hpp>
#include <incsync/detail/store_rules.hpp>
#include <incsync/postgres/detail/connection.hpp>
#include <incsync/postgres/detail/schema.hpp>
#include <incsync/store.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace incsync::postgres {

struct server_store_options {
    /// The schema holding the store's tables, created if missing. Instances
    /// sharing a store use the same; several stores may share a database.
    std::string schema = "incsync";
    /// Tombstones and change-log entries older than this are purged; a `since`
    /// older than a purged tombstone of its type gets `resync_required`.
    std::chrono::microseconds retention = std::chrono::hours(24 * 30);
    /// How often a write (of this instance) checks for anything to purge.
    std::chrono::microseconds purge_interval = std::chrono::seconds(10);
    /// Connections kept open for reuse; more are opened under load.
    std::size_t idle_connections = 8;
};

namespace detail {

using incsync::detail::global_partition;

/// The database server's clock in microseconds: one clock for every instance.
#define INCSYNC_PG_NOW_MICROS "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

/// A connection with every statement of the store prepared once.
struct session {
    connection db;
    statement state, get, list, type_info, page, version_at, first_logged, newer, log_since;
    statement stamp, next_id, row, put_row, log, newest_tombstone, drop_tombstones, set_purged, drop_log,
        set_log_horizon;

    result<void> prepare()
    {
        return prepare_each(db, "incsync_", {
            {&state, "SELECT high_water, last_commit_at, log_horizon, " INCSYNC_PG_NOW_MICROS " FROM incsync_state"},
            {&get, "SELECT body FROM incsync_records WHERE type = $1 AND id = $2 AND deleted_at IS NULL"},
            {&list, "SELECT body, partition FROM incsync_records WHERE type = $1 AND deleted_at IS NULL ORDER BY id"},
            {&type_info, "SELECT purged_upto, horizon FROM incsync_types WHERE type = $1"},
            // A pull in one statement, so one snapshot and one round trip:
            // the state, the type's purge horizon, and the view's partitions
            // ($2 global, $3 the store's; NULL for none) scanned from the
            // by-version index, at most $5 rows each. No change: one row of
            // NULL records.
            {&page, "SELECT s.high_water, s.last_commit_at, coalesce(t.purged_upto, 0), coalesce(t.horizon, 0),"
                    " r.version, r.id, r.created, r.deleted_at, r.body, r.member_versions"
                    " FROM incsync_state s LEFT JOIN incsync_types t ON t.type = $1 LEFT JOIN LATERAL ("
                    " (SELECT version, id, created, deleted_at, body, member_versions FROM incsync_records"
                    "   WHERE type = $1 AND partition = $2 AND version > $4 ORDER BY version LIMIT $5)"
                    " UNION ALL"
                    " (SELECT version, id, created, deleted_at, body, member_versions FROM incsync_records"
                    "   WHERE type = $1 AND partition = $3 AND version > $4 ORDER BY version LIMIT $5)"
                    ") r ON true ORDER BY r.version"},
            {&version_at, "SELECT version FROM incsync_change_log WHERE committed_at <= $1"
                          " ORDER BY committed_at DESC LIMIT 1"},
            {&first_logged, "SELECT version FROM incsync_change_log ORDER BY version LIMIT 1"},
            {&newer, "SELECT 1::bigint FROM incsync_records WHERE type = $1 AND partition = $2 AND version > $3 LIMIT 1"},
            {&log_since, "SELECT version, type, id, store_id, change, changed, committed_at"
                         " FROM incsync_change_log WHERE version > $1 ORDER BY version LIMIT $2"},
            // Takes the state row's lock for the rest of the transaction.
            {&stamp, "UPDATE incsync_state SET high_water = high_water + 1,"
                     " last_commit_at = greatest(last_commit_at + 1, " INCSYNC_PG_NOW_MICROS ")"
                     " RETURNING high_water, last_commit_at"},
            {&next_id, "UPDATE incsync_types SET next_id = next_id + 1 WHERE type = $1 RETURNING next_id - 1"},
            {&row, "SELECT partition, version, created, deleted_at, body, member_versions"
                   " FROM incsync_records WHERE type = $1 AND id = $2"},
            {&put_row, "INSERT INTO incsync_records"
                       " (type, id, partition, version, created, deleted_at, body, member_versions)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (type, id) DO UPDATE SET"
                       " partition = excluded.partition, version = excluded.version, created = excluded.created,"
                       " deleted_at = excluded.deleted_at, body = excluded.body,"
                       " member_versions = excluded.member_versions"},
            {&log, "INSERT INTO incsync_change_log VALUES ($1, $2, $3, $4, $5, $6, $7)"},
            {&newest_tombstone, "SELECT max(version) FROM incsync_records"
                                " WHERE type = $1 AND deleted_at IS NOT NULL AND deleted_at < $2"},
            {&drop_tombstones, "DELETE FROM incsync_records WHERE type = $1 AND deleted_at IS NOT NULL AND deleted_at < $2"},
            {&set_purged, "UPDATE incsync_types SET purged_upto = greatest(purged_upto, $2), horizon = $3 WHERE type = $1"},
            // The newest entry is kept: it maps the last commit's timestamp,
            // which readers hand out as server_time, to its version.
            {&drop_log, "DELETE FROM incsync_change_log WHERE committed_at < $1"
                        " AND version < (SELECT high_water FROM incsync_state)"},
            {&set_log_horizon, "UPDATE incsync_state SET log_horizon = greatest(log_horizon, least($1::bigint,"
                               " (SELECT coalesce(min(committed_at), $1::bigint) FROM incsync_change_log)))"},
        });
    }
};

#undef INCSYNC_PG_NOW_MICROS

} // namespace detail

/// PostgreSQL `server_store` over the entity types of `Entities`, in one
/// schema of one database. Thread-safe, and safe to share between processes:
/// any number of instances may open the same store.
template <entity_list_like Entities>
class server_store {
public:
    using entities = Entities;

    /// Connects (a libpq connection string or `postgresql://` URI), creates
    /// or upgrades the schema. Errors name the cause in PostgreSQL's words.
    static result<std::unique_ptr<server_store>> open(std::string conninfo, server_store_options options = {})
    {
        if (conninfo.empty()) return detail::failure("open the PostgreSQL store", "no connection string");
        std::unique_ptr<server_store> s(new server_store(std::move(conninfo), std::move(options)));
        if (auto r = s->start(); !r) return r.error();
        return s;
    }

    server_store(const server_store&) = delete;
    server_store& operator=(const server_store&) = delete;

    /// The connection string with any password hidden.
    std::string where() const { return detail::connection::redacted(conninfo_) + " schema " + options_.schema; }
    std::uint64_t epoch() const noexcept { return epoch_; }

    /// Read from the database: another instance may have committed since.
    result<version_t> high_water() const
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto rows = (*conn)->db.run((*conn)->state, {}, "read the high-water mark");
        if (!rows) return rows.error();
        if (rows->empty()) return detail::failure("read the high-water mark", "the store state row is missing");
        return static_cast<version_t>(rows->integer(0, 0));
    }

    /// Counted from the first entry kept: versions are contiguous (one per
    /// commit, serialized) and a purge drops a prefix.
    result<change_log_stats> log_stats() const
    {
        auto snap = snapshot();
        if (!snap) return snap.error();
        change_log_stats out{0, snap->high_water, snap->log_horizon};
        auto first = snap->conn->db.run(snap->conn->first_logged, {}, "read the change log");
        if (!first) return first.error();
        if (!first->empty()) out.entries = snap->high_water - static_cast<version_t>(first->integer(0, 0)) + 1;
        return out;
    }

    /// A reading of the clock for messages (pong): not before any commit this
    /// instance has seen.
    timestamp now() const { return clock_.observe(); }

    template <entity E>
    result<commit<E>> create(const E& value)
    {
        return write<E>([&](detail::session& w, const stamp_t& s) -> result<commit<E>> {
            E v = value;
            auto id = w.db.run(w.next_id, {entity_type_name<E>}, "take the next id");
            if (!id) return id.error();
            if (id->empty()) return detail::failure("take the next id", "the entity type is not registered");
            v.id = id->integer(0, 0);
            v.updated_at = s.at;
            std::array<version_t, member_count<E>> versions;
            versions.fill(s.version);
            auto rec = make_record(std::move(v));
            if (auto r = put_row<E>(w, rec->value.id, incsync::detail::partition_of(rec->value), s.version, s.version,
                                    {}, rec->json, versions);
                !r)
                return r.error();
            const change c{s.version, entity_type_name<E>, rec->value.id, store_of(rec->value), change_type::create,
                           member_set::first(member_count<E>), s.at};
            return commit<E>{c, std::move(rec)};
        });
    }

    template <entity E>
    result<commit<E>> update(std::int64_t id, const E& value, member_set members)
    {
        return write<E>([&](detail::session& w, const stamp_t& s) -> result<commit<E>> {
            auto found = read_row<E>(w, id);
            if (!found) return found.error();
            if (!*found || (*found)->deleted) return error::not_found;
            auto& row = **found;
            auto updated = incsync::detail::updated_record(row.current->value, value, members);
            if (!updated) return updated.error();
            auto& [next, changed] = *updated;
            if (changed.empty()) return incsync::detail::unchanged<E>(row.version, id, row.current);
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
        return write<E>([&](detail::session& w, const stamp_t& s) -> result<commit<E>> {
            auto found = read_row<E>(w, id);
            if (!found) return found.error();
            if (!*found || (*found)->deleted) return error::not_found;
            auto& row = **found;
            if (auto r = put_row<E>(w, id, row.partition, s.version, row.created, s.at, std::nullopt, row.member_versions);
                !r)
                return r.error();
            const change c{s.version, entity_type_name<E>, id, store_of(row.current->value), change_type::remove, {}, s.at};
            return commit<E>{c, nullptr};
        });
    }

    template <entity E>
    result<record_ptr<E>> get(std::int64_t id) const
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto rows = (*conn)->db.run((*conn)->get, {entity_type_name<E>, id}, "read a record");
        if (!rows) return rows.error();
        if (rows->empty()) return error::not_found;
        return decode<E>(rows->text(0, 0));
    }

    template <entity E>
    result<std::vector<record_ptr<E>>> list(std::optional<std::int64_t> store) const
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto rows = (*conn)->db.run((*conn)->list, {entity_type_name<E>}, "list records");
        if (!rows) return rows.error();
        std::vector<record_ptr<E>> out;
        out.reserve(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) {
            if (!incsync::detail::in_view<E>(rows->integer(i, 1), store)) continue;
            auto rec = decode<E>(rows->text(i, 0));
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
        std::optional<std::int64_t> global, own;
        if (entity_scope<E> != scope::store) global = detail::global_partition;
        if (entity_scope<E> != scope::global) own = q.store_id;
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto rows = (*conn)->db.run((*conn)->page,
                                    {entity_type_name<E>, global, own, static_cast<std::int64_t>(q.after),
                                     static_cast<std::int64_t>(limit + 1)},
                                    "read changes");
        if (!rows) return rows.error();
        if (rows->empty()) return detail::failure("read changes", "the store state row is missing");
        const auto high_water = static_cast<version_t>(rows->integer(0, 0));
        clock_.raise_to(timestamp{rows->integer(0, 1)});
        const auto purged_upto = static_cast<version_t>(rows->integer(0, 2));
        if (q.after > 0 && q.after < purged_upto)
            return error_info(error::resync_required, "tombstones after this cursor were purged");
        change_page<E> page;
        page.server_time = timestamp{rows->integer(0, 1)};
        page.retention_horizon = timestamp{rows->integer(0, 3)};
        // Both partitions' rows, merged in version order by the statement.
        int count = rows->is_null(0, 4) ? 0 : rows->size();
        page.has_more = static_cast<std::size_t>(count) > limit;
        if (page.has_more) count = static_cast<int>(limit);
        page.changes.reserve(static_cast<std::size_t>(count));
        version_t last = 0;
        for (int i = 0; i < count; ++i) {
            last = static_cast<version_t>(rows->integer(i, 4));
            const std::int64_t id = rows->integer(i, 5);
            if (auto deleted_at = rows->optional_integer(i, 7)) {
                page.deleted.push_back({id, timestamp{*deleted_at}, last});
                continue;
            }
            auto rec = decode<E>(rows->text(i, 8));
            if (!rec) return rec.error();
            page.changes.push_back(incsync::detail::entry_since(
                last, std::move(*rec), static_cast<version_t>(rows->integer(i, 6)),
                incsync::detail::decode_versions<member_count<E>>(rows->text(i, 9)), q.base));
        }
        page.next = page.has_more ? last : std::max(q.after, high_water);
        page.high_water = page.next;
        return page;
    }

    template <entity E>
    result<version_t> version_at(timestamp t) const
    {
        auto snap = snapshot();
        if (!snap) return snap.error();
        detail::session& r = *snap->conn;
        if (t > std::max(snap->database_now, snap->last_commit_at)) return error::since_in_future;
        if (t < snap->log_horizon) {
            auto purged = purge_state(r, entity_type_name<E>);
            if (!purged) return purged.error();
            if (purged->first > 0) return error_info(error::resync_required, "since is older than the retention horizon");
            return version_t{0}; // nothing of E was purged: a full resend is exact
        }
        auto at = r.db.run(r.version_at, {t.micros}, "map a timestamp to a version");
        if (!at) return at.error();
        if (!at->empty()) return static_cast<version_t>(at->integer(0, 0));
        auto first = r.db.run(r.first_logged, {}, "read the change log");
        if (!first) return first.error();
        if (first->empty()) return snap->high_water;
        return static_cast<version_t>(first->integer(0, 0)) - 1;
    }

    result<changed_types> changed_since(version_t after, std::optional<std::int64_t> store) const
    {
        auto snap = snapshot();
        if (!snap) return snap.error();
        detail::session& r = *snap->conn;
        changed_types out;
        out.server_time = snap->last_commit_at;
        result<void> failed;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            if (!failed) return;
            bool changed = false;
            auto check = [&](std::int64_t partition) {
                if (changed || !failed) return;
                auto rows = r.db.run(r.newer, {entity_type_name<E>, partition, static_cast<std::int64_t>(after)},
                                     "look for changes");
                if (!rows) failed = rows.error();
                else changed = !rows->empty();
            };
            if (entity_scope<E> != scope::store) check(detail::global_partition);
            if (entity_scope<E> != scope::global && store) check(*store);
            if (!changed && failed) {
                auto purged = purge_state(r, entity_type_name<E>);
                if (!purged) failed = purged.error();
                else changed = after < purged->first;
            }
            if (changed) out.types.push_back(entity_type_name<E>);
        });
        if (!failed) return failed.error();
        out.next = snap->high_water;
        return out;
    }

    /// Change-log entries after `after`, oldest first, at most `limit`.
    result<std::vector<change>> log_since(version_t after, std::size_t limit = max_page_limit) const
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        auto rows = (*conn)->db.run((*conn)->log_since,
                                    {static_cast<std::int64_t>(after), static_cast<std::int64_t>(limit)},
                                    "read the change log");
        if (!rows) return rows.error();
        std::vector<change> out;
        out.reserve(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) {
            auto c = incsync::detail::logged_change<Entities>(
                static_cast<version_t>(rows->integer(i, 0)), rows->text(i, 1), rows->integer(i, 2),
                rows->optional_integer(i, 3), rows->text(i, 4), static_cast<std::uint64_t>(rows->integer(i, 5)),
                timestamp{rows->integer(i, 6)});
            if (!c) return detail::failure("read the change log", "unknown change type");
            out.push_back(*c);
        }
        return out;
    }

    /// Drops tombstones and change-log entries committed before `horizon`
    /// (the newest entry stays). Writes call this on their own every
    /// `purge_interval` with `now - retention`; tests and operators may call
    /// it directly.
    result<void> purge(timestamp horizon)
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        detail::session& w = **conn;
        auto tx = detail::transaction::begin(w.db, "BEGIN");
        if (!tx) return tx.error();
        // The state row's lock: purges and writes take turns.
        if (auto r = w.db.exec("SELECT 1 FROM incsync_state FOR UPDATE", "lock the store"); !r) return r;
        if (auto r = purge_locked(w, horizon); !r) return r;
        return tx->commit();
    }

private:
    using stamp_t = incsync::detail::commit_stamp;
    template <entity E>
    using stored_row = incsync::detail::stored_row<E>;

    server_store(std::string conninfo, server_store_options options)
        : conninfo_(std::move(conninfo)), options_(std::move(options)),
          pool_(conninfo_, "SET search_path TO " + detail::quote_identifier(options_.schema), options_.idle_connections)
    {
    }

    result<void> start()
    {
        auto c = detail::connection::open(conninfo_);
        if (!c) return c.error();
        if (auto r = detail::migrate(*c, options_.schema); !r) return r;
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        detail::connection& db = (*conn)->db;
        // Every entity type gets its row (types added to `Entities` since too).
        auto add = db.prepare("incsync_add_type", "INSERT INTO incsync_types (type) VALUES ($1) ON CONFLICT DO NOTHING");
        if (!add) return add.error();
        result<void> added;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            if (!added) return;
            if (auto r = db.run(*add, {entity_type_name<E>}, "register entity types"); !r) added = r.error();
        });
        if (!added) return added;
        auto epoch = db.exec("DEALLOCATE incsync_add_type", "deallocate");
        if (!epoch) return epoch;
        auto state = db.prepare("incsync_epoch", "SELECT epoch, last_commit_at FROM incsync_state");
        if (!state) return state.error();
        auto rows = db.run(*state, {}, "read the store state");
        if (!rows) return rows.error();
        if (rows->empty()) return detail::failure(where(), "the store state row is missing");
        epoch_ = static_cast<std::uint64_t>(rows->integer(0, 0));
        clock_.raise_to(timestamp{rows->integer(0, 1)});
        return db.exec("DEALLOCATE incsync_epoch", "deallocate");
    }

    template <entity E>
    static result<record_ptr<E>> decode(std::string_view body)
    {
        std::string text(body);
        auto v = from_json_text<E>(text, lenient_decode);
        if (!v) return detail::failure(std::string("a stored ") + std::string(entity_type_name<E>) + " does not decode",
                                       v.error().message());
        return make_record(std::move(*v), std::move(text));
    }

    template <entity E>
    result<std::optional<stored_row<E>>> read_row(detail::session& w, std::int64_t id)
    {
        auto rows = w.db.run(w.row, {entity_type_name<E>, id}, "read a record");
        if (!rows) return rows.error();
        if (rows->empty()) return std::optional<stored_row<E>>{};
        stored_row<E> row;
        row.partition = rows->integer(0, 0);
        row.version = static_cast<version_t>(rows->integer(0, 1));
        row.created = static_cast<version_t>(rows->integer(0, 2));
        row.deleted = !rows->is_null(0, 3);
        row.member_versions = incsync::detail::decode_versions<member_count<E>>(rows->text(0, 5));
        if (!row.deleted) {
            auto rec = decode<E>(rows->text(0, 4));
            if (!rec) return rec.error();
            row.current = std::move(*rec);
        }
        return std::optional<stored_row<E>>{std::move(row)};
    }

    template <entity E>
    result<void> put_row(detail::session& w, std::int64_t id, std::int64_t partition, version_t version,
                         version_t created, std::optional<timestamp> deleted_at, std::optional<std::string_view> body,
                         const std::array<version_t, member_count<E>>& versions)
    {
        const std::string blob = incsync::detail::encode_versions(versions);
        std::optional<std::int64_t> deleted;
        if (deleted_at) deleted = deleted_at->micros;
        auto r = w.db.run(w.put_row,
                          {entity_type_name<E>, id, partition, static_cast<std::int64_t>(version),
                           static_cast<std::int64_t>(created), deleted, body, std::string_view(blob)},
                          "write a record");
        if (!r) return r.error();
        return {};
    }

    // Runs `fn(session, stamp)` in a write transaction that holds the state
    // row's lock from its first statement, and unless it changed nothing,
    // logs its change and commits.
    template <entity E, class Fn>
    result<commit<E>> write(Fn&& fn)
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        detail::session& w = **conn;
        auto tx = detail::transaction::begin(w.db, "BEGIN");
        if (!tx) return tx.error();
        auto stamped = w.db.run(w.stamp, {}, "take the next version");
        if (!stamped) return stamped.error();
        if (stamped->empty()) return detail::failure("take the next version", "the store state row is missing");
        const stamp_t s{static_cast<version_t>(stamped->integer(0, 0)), timestamp{stamped->integer(0, 1)}};
        auto r = fn(w, s);
        if (!r || r->is_noop()) return r; // the transaction rolls back, the version with it
        const change& c = r->change;
        if (auto l = w.db.run(w.log,
                              {static_cast<std::int64_t>(c.version), c.entity_type, c.id, c.store_id,
                               to_string(c.type), static_cast<std::int64_t>(c.changed.bits()), c.committed_at.micros},
                              "append to the change log");
            !l)
            return l.error();
        if (due_for_purge(c.committed_at))
            if (auto p = purge_locked(w, timestamp{c.committed_at.micros - options_.retention.count()}); !p)
                return p.error();
        if (auto done = tx->commit(); !done) return done.error();
        clock_.raise_to(c.committed_at);
        return r;
    }

    bool due_for_purge(timestamp now)
    {
        std::lock_guard g(purge_mutex_);
        if (now.micros - last_purge_.micros < options_.purge_interval.count()) return false;
        last_purge_ = now;
        return true;
    }

    result<void> purge_locked(detail::session& w, timestamp horizon)
    {
        result<void> out;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            if (!out) return;
            const std::string_view type = entity_type_name<E>;
            auto newest = w.db.run(w.newest_tombstone, {type, horizon.micros}, "find old tombstones");
            if (!newest) return void(out = newest.error());
            if (newest->empty() || newest->is_null(0, 0)) return;
            const std::int64_t upto = newest->integer(0, 0);
            if (auto r = w.db.run(w.drop_tombstones, {type, horizon.micros}, "purge tombstones"); !r)
                return void(out = r.error());
            if (auto r = w.db.run(w.set_purged, {type, upto, horizon.micros}, "record the purge"); !r)
                out = r.error();
        });
        if (!out) return out;
        if (auto r = w.db.run(w.drop_log, {horizon.micros}, "purge the change log"); !r) return r.error();
        if (auto r = w.db.run(w.set_log_horizon, {horizon.micros}, "record the purge"); !r) return r.error();
        return {};
    }

    /// The type's newest purged tombstone (older cursors resync) and the
    /// purge cutoff that set it; (0, epoch start) if nothing was purged.
    static result<std::pair<version_t, timestamp>> purge_state(detail::session& r, std::string_view type)
    {
        auto rows = r.db.run(r.type_info, {type}, "read the retention horizon");
        if (!rows) return rows.error();
        if (rows->empty()) return std::pair{version_t{0}, timestamp{}};
        return std::pair{static_cast<version_t>(rows->integer(0, 0)), timestamp{rows->integer(0, 1)}};
    }

    /// A connection in a REPEATABLE READ transaction: one consistent view
    /// across several queries, started by reading the store's state.
    struct read_snapshot {
        detail::session_pool<detail::session>::lease conn;
        detail::transaction tx;
        version_t high_water = 0;
        timestamp last_commit_at;
        timestamp log_horizon;
        timestamp database_now;
    };

    result<read_snapshot> snapshot() const
    {
        auto conn = pool_.borrow();
        if (!conn) return conn.error();
        detail::session& r = **conn;
        auto tx = detail::transaction::begin(r.db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (!tx) return tx.error();
        auto rows = r.db.run(r.state, {}, "read the high-water mark");
        if (!rows) return rows.error();
        if (rows->empty()) return detail::failure("read the high-water mark", "the store state row is missing");
        read_snapshot out{std::move(*conn), std::move(*tx), static_cast<version_t>(rows->integer(0, 0)),
                          timestamp{rows->integer(0, 1)}, timestamp{rows->integer(0, 2)}, timestamp{rows->integer(0, 3)}};
        clock_.raise_to(out.last_commit_at);
        return out;
    }

    std::string conninfo_;
    server_store_options options_;
    std::uint64_t epoch_ = 0;
    detail::session_pool<detail::session> pool_;
    mutable incsync::detail::commit_clock clock_;
    std::mutex purge_mutex_;
    timestamp last_purge_;
};

} // namespace incsync::postgres

#endif
