// A thin RAII layer over libpq: a connection, results that free themselves,
// statements prepared once per connection, transactions that roll back unless
// committed, a pool of connections, and libpq's errors turned into
// `error::storage_failure` with PostgreSQL's own words.
//
// Parameters and results travel in PostgreSQL's binary format: a bigint is 8
// big-endian bytes, text and bytea are their bytes. Nothing is printed or
// parsed as decimal, and text needs no terminating NUL.
#ifndef INCSYNC_POSTGRES_DETAIL_CONNECTION_HPP
#define INCSYNC_POSTGRES_DETAIL_CONNECTION_HPP

#include <incsync/error.hpp>

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace incsync::postgres::detail {

/// `error::storage_failure` with what failed and why, e.g. "storage failure:
/// open postgresql://127.0.0.1:5432/pos: connection refused".
inline error_info failure(std::string_view what, std::string_view why)
{
    std::string detail(what);
    detail += ": ";
    // libpq's messages end in a newline and may span lines.
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.remove_suffix(1);
    for (char c : why) detail.push_back(c == '\n' ? ' ' : c);
    return error_info(error::storage_failure, std::move(detail));
}

/// `name` as a quoted SQL identifier: `"name"`, inner quotes doubled.
inline std::string quote_identifier(std::string_view name)
{
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

/// libpq prints notices (and the server's farewell when it shuts down) to
/// stderr by default; the store and the bus report errors themselves.
inline void silence_notices(PGconn* c) noexcept
{
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
}

/// One parameter, in binary format.
class param {
public:
    param(std::int64_t v) noexcept // NOLINT: implicit, params are written as a list
    {
        for (int i = 0; i < 8; ++i) buf_[static_cast<std::size_t>(i)] = static_cast<char>((static_cast<std::uint64_t>(v) >> (56 - 8 * i)) & 0xff);
        size_ = 8;
        inline_ = true;
    }
    /// text or bytea; an empty view (even a null one) is '', never NULL.
    param(std::string_view s) noexcept : data_(s.data() ? s.data() : ""), size_(s.size()) {} // NOLINT
    param(std::nullopt_t) noexcept : null_(true) {}                          // NOLINT: SQL NULL
    template <class T>
    param(const std::optional<T>& v) noexcept // NOLINT
    {
        if (v) *this = param(*v);
        else null_ = true;
    }

    const char* data() const noexcept { return null_ ? nullptr : inline_ ? buf_.data() : data_; }
    int size() const noexcept { return static_cast<int>(size_); }

private:
    std::array<char, 8> buf_{};
    const char* data_ = nullptr;
    std::size_t size_ = 0;
    bool inline_ = false;
    bool null_ = false;
};

/// A query's rows, binary format, freed on destruction.
class rows {
public:
    rows() = default;
    explicit rows(PGresult* r) noexcept : r_(r) {}

    int size() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
    bool empty() const noexcept { return size() == 0; }
    bool is_null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }

    std::int64_t integer(int row, int col) const noexcept
    {
        const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col));
        if (PQgetlength(r_.get(), row, col) != 8) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
        return static_cast<std::int64_t>(v);
    }
    std::optional<std::int64_t> optional_integer(int row, int col) const noexcept
    {
        if (is_null(row, col)) return std::nullopt;
        return integer(row, col);
    }
    /// text or bytea: its bytes, valid while `*this` lives.
    std::string_view text(int row, int col) const noexcept
    {
        return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }

private:
    struct clear {
        void operator()(PGresult* r) const noexcept { PQclear(r); }
    };
    std::unique_ptr<PGresult, clear> r_;
};

/// A prepared statement: its name on the connection that prepared it.
struct statement {
    std::string name;
};

class connection {
public:
    connection() = default;

    /// Connects with a libpq connection string or URI (`postgresql://user@host:port/db`).
    static result<connection> open(const std::string& conninfo)
    {
        connection c;
        c.db_.reset(PQconnectdb(conninfo.c_str()));
        if (!c.db_) return failure("connect to PostgreSQL", "out of memory");
        silence_notices(c.db_.get());
        if (PQstatus(c.db_.get()) != CONNECTION_OK)
            return failure("connect to PostgreSQL (" + redacted(conninfo) + ")", PQerrorMessage(c.db_.get()));
        return c;
    }

    PGconn* native() const noexcept { return db_.get(); }
    explicit operator bool() const noexcept { return db_ != nullptr; }
    bool broken() const noexcept { return !db_ || PQstatus(db_.get()) != CONNECTION_OK; }
    bool in_transaction() const noexcept { return db_ && PQtransactionStatus(db_.get()) != PQTRANS_IDLE; }

    /// Runs SQL without parameters (one or several statements).
    result<void> exec(const char* sql, std::string_view what)
    {
        auto r = finish(PQexec(db_.get(), sql), what);
        if (!r) return r.error();
        return {};
    }

    result<statement> prepare(std::string name, const char* sql)
    {
        auto r = finish(PQprepare(db_.get(), name.c_str(), sql, 0, nullptr), "prepare " + name);
        if (!r) return r.error();
        return statement{std::move(name)};
    }

    /// Runs a prepared statement with binary parameters; rows in binary.
    result<rows> run(const statement& s, std::initializer_list<param> params, std::string_view what)
    {
        constexpr std::size_t max_params = 16;
        std::array<const char*, max_params> values{};
        std::array<int, max_params> lengths{};
        std::array<int, max_params> formats{};
        std::size_t n = 0;
        for (const auto& p : params) {
            if (n == max_params) return failure(what, "too many parameters");
            values[n] = p.data();
            lengths[n] = p.size();
            formats[n] = 1;
            ++n;
        }
        return finish(PQexecPrepared(db_.get(), s.name.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                                     formats.data(), 1),
                      what);
    }

    /// A connection string with any password replaced, fit for errors and logs.
    static std::string redacted(std::string_view conninfo)
    {
        std::string out(conninfo);
        // URI form: scheme://user:password@host
        if (const auto scheme = out.find("://"); scheme != std::string::npos) {
            const auto at = out.find('@', scheme);
            const auto colon = out.find(':', scheme + 3);
            if (at != std::string::npos && colon != std::string::npos && colon < at)
                out.replace(colon + 1, at - colon - 1, "***");
        }
        // key=value form
        if (const auto pw = out.find("password="); pw != std::string::npos) {
            auto end = out.find(' ', pw);
            if (end == std::string::npos) end = out.size();
            out.replace(pw + 9, end - pw - 9, "***");
        }
        return out;
    }

private:
    /// `r` if it succeeded, else PostgreSQL's message (or libpq's, when the
    /// connection broke and there is no result at all).
    result<rows> finish(PGresult* r, std::string_view what) const
    {
        rows out(r);
        const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return out;
        const char* why = r ? PQresultErrorMessage(r) : "";
        return failure(what, *why ? why : PQerrorMessage(db_.get()));
    }

    struct closer {
        void operator()(PGconn* c) const noexcept { PQfinish(c); }
    };
    std::unique_ptr<PGconn, closer> db_;
};

/// Prepares each (statement, SQL) pair on `db`, named `<prefix><index>`.
inline result<void> prepare_each(connection& db, std::string_view prefix,
                                 std::initializer_list<std::pair<statement*, const char*>> list)
{
    int n = 0;
    for (const auto& [s, sql] : list) {
        auto p = db.prepare(std::string(prefix) + std::to_string(n++), sql);
        if (!p) return p.error();
        *s = std::move(*p);
    }
    return {};
}

/// A transaction that rolls back when it goes out of scope uncommitted.
class transaction {
public:
    /// `begin`: "BEGIN" (writers) or e.g. "BEGIN ISOLATION LEVEL REPEATABLE
    /// READ READ ONLY" (one consistent snapshot across several queries).
    static result<transaction> begin(connection& c, const char* begin)
    {
        if (auto r = c.exec(begin, "begin a transaction"); !r) return r.error();
        return transaction(c);
    }

    transaction(transaction&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    transaction& operator=(transaction&&) = delete;
    ~transaction()
    {
        if (c_ && c_->in_transaction()) (void)c_->exec("ROLLBACK", "roll back");
    }

    result<void> commit()
    {
        auto r = std::exchange(c_, nullptr)->exec("COMMIT", "commit");
        return r;
    }

private:
    explicit transaction(connection& c) noexcept : c_(&c) {}
    connection* c_;
};

/// Connections to one database, each with its statements (`Session` has a
/// `connection db` and `result<void> prepare()`), lent to one thread at a
/// time and kept for reuse; more are opened when all are busy. A connection
/// that broke (the server restarted) is not kept.
template <class Session>
class session_pool {
    struct give_back {
        const session_pool* pool;
        void operator()(Session* s) const noexcept { pool->put_back(s); }
    };

public:
    using lease = std::unique_ptr<Session, give_back>;

    /// `setup`: SQL run on each new connection before `prepare` (search_path).
    session_pool(std::string conninfo, std::string setup, std::size_t keep)
        : conninfo_(std::move(conninfo)), setup_(std::move(setup)), keep_(keep)
    {
    }

    result<lease> borrow() const
    {
        {
            std::lock_guard g(mutex_);
            if (!idle_.empty()) {
                Session* s = idle_.back().release();
                idle_.pop_back();
                return lease(s, give_back{this});
            }
        }
        auto s = std::make_unique<Session>();
        auto c = connection::open(conninfo_);
        if (!c) return c.error();
        s->db = std::move(*c);
        if (!setup_.empty())
            if (auto r = s->db.exec(setup_.c_str(), "set up a connection"); !r) return r.error();
        if (auto p = s->prepare(); !p) return p.error();
        return lease(s.release(), give_back{this});
    }

private:
    void put_back(Session* s) const noexcept
    {
        std::unique_ptr<Session> owned(s);
        if (owned->db.broken() || owned->db.in_transaction()) return;
        std::lock_guard g(mutex_);
        if (idle_.size() < keep_) idle_.push_back(std::move(owned));
    }

    std::string conninfo_;
    std::string setup_;
    std::size_t keep_;
    mutable std::mutex mutex_;
    mutable std::vector<std::unique_ptr<Session>> idle_;
};

} // namespace incsync::postgres::detail

#endif
