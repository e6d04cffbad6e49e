// The PostgreSQL server store's tables, in a schema of their own (`incsync`
// unless told otherwise), and the migrations that create and upgrade them.
// The same layout as the SQLite store's: one set of tables for every entity
// type (rows keyed by type name), timestamps in microseconds since the Unix
// epoch, record bodies the JSON the protocol sends (`body::jsonb ->> 'name'`
// works from psql).
#ifndef INCSYNC_POSTGRES_DETAIL_SCHEMA_HPP
#define INCSYNC_POSTGRES_DETAIL_SCHEMA_HPP

#include <incsync/postgres/detail/connection.hpp>

#include <array>
#include <string>

namespace incsync::postgres::detail {

struct migration {
    int version;
    const char* sql;
};

inline constexpr std::array<migration, 1> server_migrations{{
    {1, R"sql(
CREATE TABLE incsync_state (
    id             smallint PRIMARY KEY CHECK (id = 1),
    epoch          bigint NOT NULL, -- identity of this store's data, in every cursor
    high_water     bigint NOT NULL, -- version of the last commit
    last_commit_at bigint NOT NULL, -- its timestamp: the next is strictly greater
    log_horizon    bigint NOT NULL  -- change-log entries before it were purged
);
-- The row every write locks first: commits are serialized in version order
-- across all server instances, so versions have no gaps and a reader that
-- sees version N sees everything before it.
-- Until the first commit, server_time is the store's creation time.
INSERT INTO incsync_state VALUES (1, floor(random() * 9007199254740991)::bigint, 0,
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, 0);

CREATE TABLE incsync_types (
    type        text PRIMARY KEY,
    next_id     bigint NOT NULL DEFAULT 1,
    purged_upto bigint NOT NULL DEFAULT 0, -- newest purged tombstone: older cursors resync
    horizon     bigint NOT NULL DEFAULT 0  -- the purge cutoff that set it
);

-- Live records and tombstones, each at its latest version.
CREATE TABLE incsync_records (
    type            text   NOT NULL,
    id              bigint NOT NULL,
    partition       bigint NOT NULL, -- store_id, or the smallest bigint for global rows
    version         bigint NOT NULL,
    created         bigint NOT NULL, -- version of the create
    deleted_at      bigint,          -- NULL while live
    body            text,            -- JSON; NULL once deleted
    member_versions bytea  NOT NULL, -- per member, the version that last changed it (8 bytes LE each)
    PRIMARY KEY (type, id)
);
-- The by-sequence index: a pull is one range scan per partition of its view.
CREATE UNIQUE INDEX incsync_records_by_version ON incsync_records (type, partition, version);
CREATE INDEX incsync_tombstones ON incsync_records (type, deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE incsync_change_log (
    version      bigint PRIMARY KEY,
    type         text   NOT NULL,
    id           bigint NOT NULL,
    store_id     bigint,
    change       text   NOT NULL, -- create, update, delete
    changed      bigint NOT NULL, -- members changed, one bit each in declaration order
    committed_at bigint NOT NULL
);
CREATE INDEX incsync_change_log_by_time ON incsync_change_log (committed_at);

-- Entity images (PROTOCOL.md section 4); rendition '' is the uploaded original.
CREATE TABLE incsync_images (
    type         text   NOT NULL,
    id           bigint NOT NULL,
    rendition    text   NOT NULL,
    content_type text   NOT NULL,
    etag         text   NOT NULL,
    bytes        bytea  NOT NULL,
    PRIMARY KEY (type, id, rendition)
);
)sql"},
}};

/// Creates `schema` and brings its tables to the newest version. Instances
/// starting together take turns (an advisory lock); a schema newer than
/// this code is refused rather than misread.
inline result<void> migrate(connection& db, const std::string& schema)
{
    auto tx = transaction::begin(db, "BEGIN");
    if (!tx) return tx.error();
    if (schema.empty() || schema.find('\0') != std::string::npos)
        return failure("open the PostgreSQL store", "the schema name is empty or holds a NUL");
    const std::string quoted = quote_identifier(schema);
    const std::string setup = "SELECT pg_advisory_xact_lock(7240316955361938291);"
                              "CREATE SCHEMA IF NOT EXISTS " + quoted + ";"
                              "SET LOCAL search_path TO " + quoted + ";"
                              "CREATE TABLE IF NOT EXISTS incsync_schema (version integer NOT NULL)";
    if (auto r = db.exec(setup.c_str(), "create the schema " + schema); !r) return r;
    auto v = db.prepare("incsync_schema_version", "SELECT coalesce(max(version), 0)::bigint FROM incsync_schema");
    if (!v) return v.error();
    auto rows = db.run(*v, {}, "read the schema version");
    if (!rows) return rows.error();
    const auto current = rows->integer(0, 0);
    (void)db.exec("DEALLOCATE incsync_schema_version", "deallocate");
    if (current > server_migrations.back().version)
        return failure("open the PostgreSQL store in schema " + schema,
                       "its schema version " + std::to_string(current) + " is newer than this program's "
                           + std::to_string(server_migrations.back().version));
    for (const auto& m : server_migrations) {
        if (m.version <= current) continue;
        if (auto r = db.exec(m.sql, "migrate the store to version " + std::to_string(m.version)); !r) return r;
        const std::string record = "DELETE FROM incsync_schema; INSERT INTO incsync_schema VALUES ("
                                   + std::to_string(m.version) + ")";
        if (auto r = db.exec(record.c_str(), "record the schema version"); !r) return r;
    }
    return tx->commit();
}

} // namespace incsync::postgres::detail

#endif
