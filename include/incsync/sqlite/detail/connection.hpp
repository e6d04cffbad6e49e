// A thin RAII layer over SQLite's C API: a connection, prepared statements
// that reset themselves after each use (an unreset SELECT would pin its WAL
// snapshot), transactions that roll back unless committed, and SQLite's
// result codes turned into `error::storage_failure` with SQLite's own words.
#ifndef INCSYNC_SQLITE_DETAIL_CONNECTION_HPP
#define INCSYNC_SQLITE_DETAIL_CONNECTION_HPP

#include <incsync/error.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::sqlite::detail {

/// `error::storage_failure` with what failed and SQLite's explanation, e.g.
/// "storage failure: commit: database or disk is full".
inline error_info failure(std::string_view what, std::string_view why)
{
    std::string detail(what);
    detail += ": ";
    detail += why;
    return error_info(error::storage_failure, std::move(detail));
}

inline error_info failure(sqlite3* db, int rc, std::string_view what)
{
    // The connection's message is more precise (names the table or column)
    // when it belongs to this result code.
    const bool own = db && sqlite3_extended_errcode(db) == rc;
    return failure(what, own ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

class statement {
public:
    statement() = default;
    statement(sqlite3* db, sqlite3_stmt* s) noexcept : db_(db), stmt_(s) {}

    /// Resets the statement when it goes out of scope: bindings cleared,
    /// cursor closed, read snapshot released.
    class [[nodiscard]] use {
    public:
        explicit use(statement& s) noexcept : s_(&s) {}
        use(const use&) = delete;
        use& operator=(const use&) = delete;
        ~use()
        {
            sqlite3_reset(s_->stmt_.get());
            sqlite3_clear_bindings(s_->stmt_.get());
        }

    private:
        statement* s_;
    };

    use start() noexcept { return use(*this); }

    // Parameters are 1-based, as in SQL. Text and blobs are bound without a
    // copy: the caller keeps them alive until the `use` ends.
    void bind(int i, std::int64_t v) noexcept { sqlite3_bind_int64(stmt_.get(), i, v); }
    // A default string_view has no data pointer, which SQLite would bind as
    // NULL: bind "" instead, so '' stays ''.
    void bind(int i, std::string_view v) noexcept
    {
        sqlite3_bind_text(stmt_.get(), i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_blob(int i, std::string_view v) noexcept
    {
        sqlite3_bind_blob(stmt_.get(), i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_null(int i) noexcept { sqlite3_bind_null(stmt_.get(), i); }
    void bind(int i, std::optional<std::int64_t> v) noexcept
    {
        if (v) bind(i, *v);
        else bind_null(i);
    }

    /// true: a row is ready; false: done.
    result<bool> step(std::string_view what)
    {
        const int rc = sqlite3_step(stmt_.get());
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return failure(db_, rc, what);
    }

    /// Runs a statement that returns no rows.
    result<void> run(std::string_view what)
    {
        auto r = step(what);
        if (!r) return r.error();
        return {};
    }

    std::int64_t integer(int col) const noexcept { return sqlite3_column_int64(stmt_.get(), col); }
    bool is_null(int col) const noexcept { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
    std::optional<std::int64_t> optional_integer(int col) const noexcept
    {
        if (is_null(col)) return std::nullopt;
        return integer(col);
    }
    std::string_view text(int col) const noexcept
    {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), col));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)))
                 : std::string_view();
    }
    std::string_view blob(int col) const noexcept
    {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), col));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)))
                 : std::string_view();
    }

    explicit operator bool() const noexcept { return static_cast<bool>(stmt_); }

private:
    struct finalizer {
        void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
    };
    sqlite3* db_ = nullptr;
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

/// How hard a commit pushes data to the disk (SQLite's `synchronous` in WAL
/// mode). Both survive the process being killed at any point: a committed
/// transaction is in the WAL file, in the OS's hands, before commit returns.
enum class durability {
    /// fsync at every commit: a commit also survives power loss.
    full,
    /// fsync only at checkpoints: the last commits before a power loss or OS
    /// crash may be lost, never half-applied (SQLite's WAL guarantee).
    normal,
};

struct open_options {
    bool create = true;
    bool read_only = false;
    std::chrono::milliseconds busy_timeout{5000};
    std::string vfs{}; ///< a registered SQLite VFS by name (tests inject faults); default when empty
};

class connection {
public:
    connection() = default;

    static result<connection> open(const std::string& path, const open_options& o = {})
    {
        int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI; // one thread at a time per connection
        flags |= o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
        if (o.create && !o.read_only) flags |= SQLITE_OPEN_CREATE;
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, o.vfs.empty() ? nullptr : o.vfs.c_str());
        connection c;
        c.db_.reset(raw);
        if (rc != SQLITE_OK) return failure(raw, rc, "cannot open " + path);
        sqlite3_extended_result_codes(raw, 1);
        sqlite3_busy_timeout(raw, static_cast<int>(o.busy_timeout.count()));
        return c;
    }

    /// Runs one or more statements that return nothing of interest.
    result<void> exec(const char* sql, std::string_view what)
    {
        char* message = nullptr;
        const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
        if (rc == SQLITE_OK) return {};
        std::string why = message ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        return failure(what, why);
    }

    result<statement> prepare(std::string_view sql)
    {
        sqlite3_stmt* s = nullptr;
        const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (rc != SQLITE_OK) return failure(db_.get(), rc, "prepare");
        return statement(db_.get(), s);
    }

    /// The single integer a query such as `PRAGMA user_version` answers.
    result<std::int64_t> query_integer(std::string_view sql, std::string_view what)
    {
        auto s = prepare(sql);
        if (!s) return failure(what, s.error().detail);
        auto u = s->start();
        auto row = s->step(what);
        if (!row) return row.error();
        return *row ? s->integer(0) : 0;
    }

    /// Text answer of a one-row query (`PRAGMA journal_mode=WAL` says "wal").
    result<std::string> query_text(std::string_view sql, std::string_view what)
    {
        auto s = prepare(sql);
        if (!s) return failure(what, s.error().detail);
        auto u = s->start();
        auto row = s->step(what);
        if (!row) return row.error();
        return *row ? std::string(s->text(0)) : std::string();
    }

    bool in_transaction() const noexcept { return db_ && !sqlite3_get_autocommit(db_.get()); }
    sqlite3* handle() const noexcept { return db_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(db_); }

private:
    struct closer {
        void operator()(sqlite3* d) const noexcept { sqlite3_close_v2(d); }
    };
    std::unique_ptr<sqlite3, closer> db_;
};

/// Prepares each (statement, SQL) pair on `db`: a connection's statements,
/// prepared once and reused.
inline result<void> prepare_each(connection& db, std::initializer_list<std::pair<statement*, std::string_view>> list)
{
    for (const auto& [s, sql] : list) {
        auto r = db.prepare(sql);
        if (!r) return r.error();
        *s = std::move(*r);
    }
    return {};
}

/// Read connections of one file, each with its statements (`Reader` has a
/// `connection db` and `result<void> prepare()`), lent to one thread at a
/// time and kept for reuse; more are opened when all are busy.
template <class Reader>
class reader_pool {
    struct give_back {
        const reader_pool* pool;
        void operator()(Reader* r) const noexcept { pool->put_back(r); }
    };

public:
    using lease = std::unique_ptr<Reader, give_back>;

    reader_pool(std::string path, open_options options, std::size_t keep)
        : path_(std::move(path)), options_(std::move(options)), keep_(keep)
    {
        options_.create = false;
    }

    result<lease> borrow() const
    {
        {
            std::lock_guard g(mutex_);
            if (!idle_.empty()) {
                Reader* r = idle_.back().release();
                idle_.pop_back();
                return lease(r, give_back{this});
            }
        }
        auto r = std::make_unique<Reader>();
        auto c = connection::open(path_, options_);
        if (!c) return c.error();
        r->db = std::move(*c);
        if (auto p = r->prepare(); !p) return p.error();
        return lease(r.release(), give_back{this});
    }

private:
    void put_back(Reader* r) const noexcept
    {
        std::unique_ptr<Reader> owned(r);
        std::lock_guard g(mutex_);
        if (idle_.size() < keep_) idle_.push_back(std::move(owned));
    }

    std::string path_;
    open_options options_;
    std::size_t keep_;
    mutable std::mutex mutex_;
    mutable std::vector<std::unique_ptr<Reader>> idle_;
};

/// A transaction that rolls back when it goes out of scope uncommitted.
/// `immediate` takes the write lock at once (writers); `deferred` starts a
/// read snapshot at the first SELECT (readers: one consistent view across
/// several queries).
class transaction {
public:
    enum class kind { deferred, immediate };

    static result<transaction> begin(connection& c, kind k)
    {
        auto r = c.exec(k == kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN", "begin transaction");
        if (!r) return r.error();
        return transaction(c);
    }

    transaction(transaction&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    transaction& operator=(transaction&&) = delete;
    ~transaction()
    {
        if (c_ && c_->in_transaction()) (void)c_->exec("ROLLBACK", "rollback");
    }

    result<void> commit()
    {
        auto r = c_->exec("COMMIT", "commit");
        // A failed COMMIT (disk full) may leave the transaction open: end it
        // here so the connection is usable for the next one.
        if (!r && c_->in_transaction()) (void)c_->exec("ROLLBACK", "rollback");
        c_ = nullptr;
        return r;
    }

private:
    explicit transaction(connection& c) noexcept : c_(&c) {}
    connection* c_;
};

} // namespace incsync::sqlite::detail

#endif
