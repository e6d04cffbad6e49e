// The server store's tables. One set of tables serves every entity type (rows
// keyed by type name), so a new entity type needs no migration. Timestamps
// are microseconds since the Unix epoch; record bodies are the JSON the
// protocol sends, so `json_extract(body, '$.name')` works from the sqlite3 shell.
#ifndef INCSYNC_SQLITE_DETAIL_SERVER_SCHEMA_HPP
#define INCSYNC_SQLITE_DETAIL_SERVER_SCHEMA_HPP

#include <incsync/sqlite/detail/schema.hpp>

#include <array>

namespace incsync::sqlite::detail {

inline constexpr std::array<migration, 2> server_migrations{{
    {1, R"sql(
CREATE TABLE incsync_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    epoch          INTEGER NOT NULL, -- identity of this store's data, in every cursor
    high_water     INTEGER NOT NULL, -- version of the last commit
    last_commit_at INTEGER NOT NULL, -- its timestamp: the clock never goes below it
    log_horizon    INTEGER NOT NULL  -- change-log entries before it were purged
);
INSERT INTO incsync_state VALUES (1, random(), 0, 0, 0);

CREATE TABLE incsync_types (
    type        TEXT PRIMARY KEY,
    next_id     INTEGER NOT NULL DEFAULT 1,
    purged_upto INTEGER NOT NULL DEFAULT 0, -- newest purged tombstone: older cursors resync
    horizon     INTEGER NOT NULL DEFAULT 0  -- the purge cutoff that set it
) WITHOUT ROWID;

-- Live records and tombstones, each at its latest version.
CREATE TABLE incsync_records (
    type            TEXT    NOT NULL,
    id              INTEGER NOT NULL,
    partition       INTEGER NOT NULL, -- store_id, or the smallest integer for global rows
    version         INTEGER NOT NULL,
    created         INTEGER NOT NULL, -- version of the create
    deleted_at      INTEGER,          -- NULL while live
    body            TEXT,             -- JSON; NULL once deleted
    member_versions BLOB    NOT NULL, -- per member, the version that last changed it (8 bytes LE each)
    PRIMARY KEY (type, id)
) WITHOUT ROWID;
-- The by-sequence index: a pull is one range scan per partition of its view.
CREATE UNIQUE INDEX incsync_records_by_version ON incsync_records (type, partition, version);

CREATE TABLE incsync_change_log (
    version      INTEGER PRIMARY KEY,
    type         TEXT    NOT NULL,
    id           INTEGER NOT NULL,
    store_id     INTEGER,
    change       TEXT    NOT NULL, -- create, update, delete
    changed      INTEGER NOT NULL, -- members changed, one bit each in declaration order
    committed_at INTEGER NOT NULL
);
CREATE INDEX incsync_change_log_by_time ON incsync_change_log (committed_at);
)sql"},
    {2, R"sql(
-- Purging old tombstones finds them without scanning live rows.
CREATE INDEX incsync_tombstones ON incsync_records (type, deleted_at) WHERE deleted_at IS NOT NULL;

-- Entity images (PROTOCOL.md section 4); rendition '' is the uploaded original.
CREATE TABLE incsync_images (
    type         TEXT    NOT NULL,
    id           INTEGER NOT NULL,
    rendition    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    etag         TEXT    NOT NULL,
    bytes        BLOB    NOT NULL,
    PRIMARY KEY (type, id, rendition)
);
)sql"},
}};

inline constexpr schema server_schema{server_application_id, "an incsync server store", server_migrations};

} // namespace incsync::sqlite::detail

#endif
