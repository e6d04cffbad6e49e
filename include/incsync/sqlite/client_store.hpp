// SQLite client store: a register's durable replica (the plan's IndexedDB),
// `incsync-pos-client --db register1.sqlite3`.
//
// Write-through: the file is the truth, and an in-memory replica
// (`memory::client_store`) loaded from it at open serves every read, so POS
// lookups never touch the disk and never wait for a page being written. A
// page and its `sync_state` commit in one SQLite transaction before readers
// see them: a register killed at any point reopens with its cursor never
// ahead of its records. Local edits are kept with the server value they
// started from, so merging survives restarts too.
//
// Images are BLOBs in the same file (table `incsync_images`), read on demand,
// not kept in memory: POS thumbnails are a few kilobytes, where SQLite reads
// faster than one file per image, and they commit and back up with the rest.
#ifndef INCSYNC_SQLITE_CLIENT_STORE_HPP
#define INCSYNC_SQLITE_CLIENT_STORE_HPP

#include <incsync/codec.hpp>
#include <incsync/memory/client_store.hpp>
#include <incsync/sqlite/detail/connection.hpp>
#include <incsync/sqlite/detail/schema.hpp>
#include <incsync/store.hpp>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace incsync::sqlite {

using detail::durability;

struct client_store_options {
    /// fsync policy of a commit. `normal` by default: a killed register loses
    /// nothing, and after a power loss the replica is consistent and at most
    /// re-pulls its last pages (the server holds the truth).
    durability sync = durability::normal;
    std::chrono::milliseconds busy_timeout{5000};
    std::string vfs{}; ///< a registered SQLite VFS (fault injection in tests)
};

namespace detail {

inline constexpr std::array<migration, 1> client_migrations{{
    {1, R"sql(
CREATE TABLE incsync_replica (
    type TEXT    NOT NULL,
    id   INTEGER NOT NULL,
    body TEXT    NOT NULL, -- the record's JSON as the server sent it (local edits merged)
    PRIMARY KEY (type, id)
) WITHOUT ROWID;

-- Records edited at the till: the server value the edit started from, so a
-- later pull can tell the members the server changed (server wins there).
CREATE TABLE incsync_local_edits (
    type TEXT    NOT NULL,
    id   INTEGER NOT NULL,
    base TEXT    NOT NULL,
    PRIMARY KEY (type, id)
) WITHOUT ROWID;

-- The plan's sync_state, one row per entity type.
CREATE TABLE incsync_sync_state (
    entity_type         TEXT PRIMARY KEY,
    last_sync_timestamp INTEGER, -- microseconds since the Unix epoch, client clock
    sync_version        INTEGER NOT NULL,
    cursor              TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE incsync_images (
    type         TEXT    NOT NULL,
    id           INTEGER NOT NULL,
    version      INTEGER NOT NULL, -- the record's image_version it shows
    etag         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    bytes        BLOB    NOT NULL,
    PRIMARY KEY (type, id)
);
)sql"},
}};

inline constexpr schema client_schema{client_application_id, "an incsync client replica", client_migrations};

struct client_writer {
    connection db;
    statement clear_rows, clear_edits, put_row, drop_row, put_edit, drop_edit, put_state, put_image, drop_image;

    result<void> prepare()
    {
        return prepare_each(db, {
            {&clear_rows, "DELETE FROM incsync_replica WHERE type = ?1"},
            {&clear_edits, "DELETE FROM incsync_local_edits WHERE type = ?1"},
            {&put_row, "INSERT OR REPLACE INTO incsync_replica (type, id, body) VALUES (?1, ?2, ?3)"},
            {&drop_row, "DELETE FROM incsync_replica WHERE type = ?1 AND id = ?2"},
            {&put_edit, "INSERT OR REPLACE INTO incsync_local_edits (type, id, base) VALUES (?1, ?2, ?3)"},
            {&drop_edit, "DELETE FROM incsync_local_edits WHERE type = ?1 AND id = ?2"},
            {&put_state, "INSERT OR REPLACE INTO incsync_sync_state VALUES (?1, ?2, ?3, ?4)"},
            {&put_image, "INSERT OR REPLACE INTO incsync_images VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
            {&drop_image, "DELETE FROM incsync_images WHERE type = ?1 AND id = ?2"},
        });
    }
};

} // namespace detail

/// SQLite `client_store` (and `client_image_store`) over `Entities`.
/// Thread-safe; reads are served from memory.
template <entity_list_like Entities>
class client_store {
public:
    using entities = Entities;

    /// Opens (creating if needed) the replica in `path` and loads it. `:memory:`
    /// gives a replica that lasts as long as the object. Errors name the file
    /// and the cause, including a stored record that no longer decodes.
    static result<std::unique_ptr<client_store>> open(std::string path, client_store_options options = {})
    {
        std::unique_ptr<client_store> s(new client_store(std::move(path), std::move(options)));
        if (auto r = s->start(); !r) return r.error();
        return s;
    }

    client_store(const client_store&) = delete;
    client_store& operator=(const client_store&) = delete;

    const std::string& path() const noexcept { return path_; }

    /// Writes the page and its state in one transaction, then shows them to
    /// readers. On a storage error (disk full) the replica, file and memory,
    /// is as before, so the cursor never passes the data.
    template <entity E>
    result<void> apply(const page_update<E>& page)
    {
        std::lock_guard lock(write_mutex_);
        return mirror_.apply(page, [&](const memory::staged_page<E>& staged) { return persist(staged); });
    }

    /// A local edit, written to the file before readers see it.
    template <entity E>
    result<void> edit(const E& value)
    {
        std::lock_guard lock(write_mutex_);
        return mirror_.edit(value, [&](const E& v, const std::optional<E>& base) -> result<void> {
            const std::string_view type = entity_type_name<E>;
            auto tx = detail::transaction::begin(writer_.db, detail::transaction::kind::immediate);
            if (!tx) return tx.error();
            if (base)
                if (auto r = put(writer_.put_edit, type, v.id, to_json(*base), "keep the edited record's base"); !r) return r;
            if (auto r = put(writer_.put_row, type, v.id, to_json(v), "write the edited record"); !r) return r;
            return tx->commit();
        });
    }

    template <entity E>
    result<std::optional<E>> get(std::int64_t id) const { return mirror_.template get<E>(id); }
    template <entity E>
    result<std::vector<E>> all() const { return mirror_.template all<E>(); }
    template <entity E>
    result<std::optional<sync_state>> state() const { return mirror_.template state<E>(); }
    template <entity E>
    std::size_t size() const { return mirror_.template size<E>(); }
    template <entity E>
    std::size_t local_edits() const { return mirror_.template local_edits<E>(); }

    /// See `memory::client_store::add_index`: indexes live in memory, built at open.
    template <entity E>
    result<void> add_index(std::string_view member) { return mirror_.template add_index<E>(member); }
    template <entity E, class V>
    result<std::vector<E>> find(std::string_view member, const V& value) const
    {
        return mirror_.template find<E>(member, value);
    }

    result<void> put_image(std::string_view type, std::int64_t id, const stored_image& image)
    {
        std::lock_guard lock(write_mutex_);
        auto& s = writer_.put_image;
        auto u = s.start();
        s.bind(1, type);
        s.bind(2, id);
        s.bind(3, image.version);
        s.bind(4, image.etag);
        s.bind(5, image.content_type);
        s.bind_blob(6, image.bytes);
        return s.run("store an image");
    }

    result<void> remove_image(std::string_view type, std::int64_t id)
    {
        std::lock_guard lock(write_mutex_);
        auto& s = writer_.drop_image;
        auto u = s.start();
        s.bind(1, type);
        s.bind(2, id);
        return s.run("remove an image");
    }

    result<std::optional<stored_image>> image(std::string_view type, std::int64_t id) const
    {
        // A file has its own read connection, so an image is read while a
        // page is being written; `:memory:` has only the writer's.
        std::unique_lock lock(reader_ ? reader_mutex_ : write_mutex_);
        auto& s = reader_ ? read_image_ : write_read_image_;
        auto u = s.start();
        s.bind(1, type);
        s.bind(2, id);
        auto row = s.step("read an image");
        if (!row) return row.error();
        if (!*row) return std::optional<stored_image>{};
        return std::optional<stored_image>{
            stored_image{s.integer(0), std::string(s.text(1)), std::string(s.text(2)), std::string(s.blob(3))}};
    }

    result<std::size_t> image_count() const
    {
        std::unique_lock lock(reader_ ? reader_mutex_ : write_mutex_);
        auto& c = reader_ ? reader_ : writer_.db;
        auto n = c.query_integer("SELECT count(*) FROM incsync_images", "count images");
        if (!n) return n.error();
        return static_cast<std::size_t>(*n);
    }

private:
    client_store(std::string path, client_store_options options) : path_(std::move(path)), options_(std::move(options)) {}

    bool in_memory() const noexcept { return path_ == ":memory:"; }

    result<void> start()
    {
        auto c = detail::connection::open(path_, {.busy_timeout = options_.busy_timeout, .vfs = options_.vfs});
        if (!c) return c.error();
        writer_.db = std::move(*c);
        if (auto r = detail::configure_writer(writer_.db, options_.sync, path_); !r) return r;
        if (auto r = detail::migrate(writer_.db, detail::client_schema, path_); !r) return r.error();
        if (auto r = writer_.prepare(); !r) return r;
        static constexpr std::string_view read_image_sql =
            "SELECT version, etag, content_type, bytes FROM incsync_images WHERE type = ?1 AND id = ?2";
        auto wr = writer_.db.prepare(read_image_sql);
        if (!wr) return wr.error();
        write_read_image_ = std::move(*wr);
        if (!in_memory()) {
            auto rc = detail::connection::open(path_, {.create = false, .busy_timeout = options_.busy_timeout, .vfs = options_.vfs});
            if (!rc) return rc.error();
            reader_ = std::move(*rc);
            auto rs = reader_.prepare(read_image_sql);
            if (!rs) return rs.error();
            read_image_ = std::move(*rs);
        }
        result<void> loaded;
        for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
            if (loaded) loaded = load<E>();
        });
        return loaded;
    }

    /// Reads `E`'s rows, edit bases and sync state into the mirror.
    template <entity E>
    result<void> load()
    {
        const std::string_view type = entity_type_name<E>;
        auto decode = [&](std::string_view body, std::int64_t id) -> result<E> {
            auto v = from_json_text<E>(body, lenient_decode);
            if (!v)
                return detail::failure(path_ + ": stored " + std::string(type) + " " + std::to_string(id) + " does not decode",
                                       v.error().message());
            return v;
        };
        std::vector<E> rows;
        std::map<std::int64_t, E> bases;
        std::optional<sync_state> state;
        auto rows_q = writer_.db.prepare("SELECT id, body FROM incsync_replica WHERE type = ?1 ORDER BY id");
        auto bases_q = writer_.db.prepare("SELECT id, base FROM incsync_local_edits WHERE type = ?1");
        auto state_q = writer_.db.prepare(
            "SELECT last_sync_timestamp, sync_version, cursor FROM incsync_sync_state WHERE entity_type = ?1");
        if (!rows_q) return rows_q.error();
        if (!bases_q) return bases_q.error();
        if (!state_q) return state_q.error();
        {
            auto u = rows_q->start();
            rows_q->bind(1, type);
            for (;;) {
                auto row = rows_q->step("load the replica");
                if (!row) return row.error();
                if (!*row) break;
                auto v = decode(rows_q->text(1), rows_q->integer(0));
                if (!v) return v.error();
                rows.push_back(std::move(*v));
            }
        }
        {
            auto u = bases_q->start();
            bases_q->bind(1, type);
            for (;;) {
                auto row = bases_q->step("load local edits");
                if (!row) return row.error();
                if (!*row) break;
                auto v = decode(bases_q->text(1), bases_q->integer(0));
                if (!v) return v.error();
                bases.emplace(bases_q->integer(0), std::move(*v));
            }
        }
        {
            auto u = state_q->start();
            state_q->bind(1, type);
            auto row = state_q->step("load the sync state");
            if (!row) return row.error();
            if (*row) {
                sync_state s;
                s.entity_type = std::string(type);
                if (auto at = state_q->optional_integer(0)) s.last_sync_timestamp = timestamp{*at};
                s.sync_version = static_cast<version_t>(state_q->integer(1));
                s.cursor = std::string(state_q->text(2));
                state = std::move(s);
            }
        }
        mirror_.template restore<E>(std::move(rows), std::move(bases), std::move(state));
        return {};
    }

    static result<void> put(detail::statement& s, std::string_view type, std::int64_t id, const std::string& body,
                            std::string_view what)
    {
        auto u = s.start();
        s.bind(1, type);
        s.bind(2, id);
        s.bind(3, body);
        return s.run(what);
    }

    static result<void> drop(detail::statement& s, std::string_view type, std::int64_t id, std::string_view what)
    {
        auto u = s.start();
        s.bind(1, type);
        s.bind(2, id);
        return s.run(what);
    }

    template <entity E>
    result<void> persist(const memory::staged_page<E>& page)
    {
        const std::string_view type = entity_type_name<E>;
        auto tx = detail::transaction::begin(writer_.db, detail::transaction::kind::immediate);
        if (!tx) return tx.error();
        if (page.reset) {
            if (auto r = drop_all(writer_.clear_rows, type, "drop the type's records"); !r) return r;
            if (auto r = drop_all(writer_.clear_edits, type, "drop the type's local edits"); !r) return r;
        }
        std::string body;
        for (const auto& [id, v] : page.rows) {
            body.clear();
            append_json(body, v);
            if (auto r = put(writer_.put_row, type, id, body, "write a record"); !r) return r;
        }
        for (const auto& [id, v] : page.bases)
            if (auto r = put(writer_.put_edit, type, id, to_json(v), "keep an edited record's base"); !r) return r;
        for (auto id : page.deletes) {
            if (auto r = drop(writer_.drop_row, type, id, "delete a record"); !r) return r;
            if (auto r = drop(writer_.drop_edit, type, id, "delete a local edit"); !r) return r;
        }
        {
            auto& s = writer_.put_state;
            auto u = s.start();
            s.bind(1, type);
            s.bind(2, page.state.last_sync_timestamp ? std::optional<std::int64_t>(page.state.last_sync_timestamp->micros)
                                                     : std::nullopt);
            s.bind(3, static_cast<std::int64_t>(page.state.sync_version));
            s.bind(4, std::string_view(page.state.cursor));
            if (auto r = s.run("write the sync state"); !r) return r;
        }
        return tx->commit();
    }

    static result<void> drop_all(detail::statement& s, std::string_view type, std::string_view what)
    {
        auto u = s.start();
        s.bind(1, type);
        return s.run(what);
    }

    std::string path_;
    client_store_options options_;
    memory::client_store<Entities> mirror_;

    mutable std::mutex write_mutex_; ///< the writer connection, one transaction at a time
    mutable detail::client_writer writer_;
    mutable detail::statement write_read_image_;

    mutable std::mutex reader_mutex_;
    mutable detail::connection reader_;
    mutable detail::statement read_image_;
};

} // namespace incsync::sqlite

#endif
