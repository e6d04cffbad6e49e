// Versioned schemas: a file records which schema it has (`PRAGMA
// user_version`) and what it is (`PRAGMA application_id`: a server store or a
// client replica). Opening applies the migrations it lacks, oldest first, in
// one transaction, so a file written by an older incsync upgrades in place and
// an interrupted upgrade leaves the old schema intact.
#ifndef INCSYNC_SQLITE_DETAIL_SCHEMA_HPP
#define INCSYNC_SQLITE_DETAIL_SCHEMA_HPP

#include <incsync/sqlite/detail/connection.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

namespace incsync::sqlite::detail {

struct migration {
    int version;     ///< the schema version this step produces: 1, 2, ...
    const char* sql; ///< statements taking the schema from `version - 1` to `version`
};

struct schema {
    std::int32_t application_id; ///< marks the file's kind
    const char* kind;            ///< "incsync server store", for messages
    std::span<const migration> steps;

    int latest() const noexcept { return steps.empty() ? 0 : steps.back().version; }
};

inline constexpr std::int32_t server_application_id = 0x696e6353; // "incS"
inline constexpr std::int32_t client_application_id = 0x696e6343; // "incC"

inline const char* kind_of(std::int64_t application_id) noexcept
{
    if (application_id == server_application_id) return "an incsync server store";
    if (application_id == client_application_id) return "an incsync client replica";
    return "another application's SQLite database";
}

/// Brings the file to `s`'s schema (or only up to `upto`, for tests that make
/// an old file). Refuses, with a message naming the file, non-SQLite files,
/// other applications' databases, the other kind of incsync file, and files
/// from a newer incsync.
inline result<int> migrate(connection& c, const schema& s, const std::string& path, int upto = 1 << 30)
{
    auto what = [&](const char* problem) { return path + " " + problem; };
    auto version = c.query_integer("PRAGMA user_version", "read the schema version");
    if (!version) return failure(what("cannot be read as a database"), sqlite3_errmsg(c.handle()));
    auto app = c.query_integer("PRAGMA application_id", "read the application id");
    if (!app) return app.error();
    auto tables = c.query_integer("SELECT count(*) FROM sqlite_schema", "list tables");
    if (!tables) return tables.error();
    if (*app != s.application_id && (*app != 0 || *tables != 0))
        return failure(what("is not ") + s.kind, std::string("it is ") + kind_of(*app));
    if (*version > s.latest())
        return failure(what("was written by a newer incsync"),
                       "schema version " + std::to_string(*version) + ", this build knows up to "
                           + std::to_string(s.latest()));
    if (*version >= std::min(upto, s.latest())) return static_cast<int>(*version);

    auto tx = transaction::begin(c, transaction::kind::immediate);
    if (!tx) return tx.error();
    // Another process may have upgraded it meanwhile.
    version = c.query_integer("PRAGMA user_version", "read the schema version");
    if (!version) return version.error();
    int at = static_cast<int>(*version);
    for (const auto& step : s.steps) {
        if (step.version <= at || step.version > upto) continue;
        if (auto r = c.exec(step.sql, "migrate to schema " + std::to_string(step.version)); !r) return r.error();
        at = step.version;
    }
    const std::string stamp = "PRAGMA user_version = " + std::to_string(at)
                            + "; PRAGMA application_id = " + std::to_string(s.application_id);
    if (auto r = c.exec(stamp.c_str(), "record the schema version"); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return at;
}

/// WAL journal (readers never wait for the writer) and the commit durability.
inline result<void> configure_writer(connection& c, durability d, const std::string& path)
{
    auto mode = c.query_text("PRAGMA journal_mode = WAL", "switch to WAL");
    if (!mode) return failure(path + " cannot be used as a database", sqlite3_errmsg(c.handle()));
    if (*mode != "wal" && *mode != "memory") return failure("switch to WAL", "journal mode stays " + *mode);
    return c.exec(d == durability::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                  "set synchronous");
}

} // namespace incsync::sqlite::detail

#endif
