// Errors: one enum for every failure the library reports, its error category,
// and `result<T>`, which carries the code together with a human-readable detail
// (which member, which parameter) so a server can answer a precise 400.
#ifndef INCSYNC_ERROR_HPP
#define INCSYNC_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

namespace incsync {

/// Every failure the library reports. The HTTP status and protocol code a
/// server answers with follow from the value (see `http_status`, `protocol_code`).
enum class error {
    // Input that cannot be decoded (400 bad_request).
    bad_json = 1,       ///< not valid JSON
    not_object,         ///< JSON value is not an object where one is needed
    unknown_member,     ///< a member the entity does not have
    missing_member,     ///< a required member is absent or null
    wrong_type,         ///< a member has the wrong JSON type or is out of range
    bad_timestamp,      ///< not an RFC 3339 timestamp
    bad_decimal,        ///< not a decimal string
    bad_cursor,         ///< a garbled or forged cursor
    cursor_mismatch,    ///< a cursor issued for another entity type or store
    since_in_future,    ///< a timestamp `since` ahead of the server's clock
    bad_limit,          ///< `limit` outside 1..10000
    unknown_entity_type,///< no such entity type or path
    store_id_required,  ///< a store-scoped type queried or written without store_id
    // State (404 / 409 / 410).
    not_found,          ///< no record with that id
    immutable_member,   ///< an update tried to move a record to another store
    resync_required,    ///< the cursor is older than tombstone retention
    // Backend trouble (500).
    storage_failure,
};

namespace detail {

class error_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "incsync"; }

    std::string message(int ev) const override
    {
        switch (static_cast<error>(ev)) {
        case error::bad_json: return "malformed JSON";
        case error::not_object: return "expected a JSON object";
        case error::unknown_member: return "unknown member";
        case error::missing_member: return "missing required member";
        case error::wrong_type: return "member has the wrong type";
        case error::bad_timestamp: return "not an RFC 3339 timestamp";
        case error::bad_decimal: return "not a decimal number";
        case error::bad_cursor: return "invalid cursor";
        case error::cursor_mismatch: return "cursor belongs to another entity type or store";
        case error::since_in_future: return "since is ahead of the server's clock";
        case error::bad_limit: return "limit must be between 1 and 10000";
        case error::unknown_entity_type: return "unknown entity type";
        case error::store_id_required: return "store_id is required for this entity type";
        case error::not_found: return "not found";
        case error::immutable_member: return "member cannot be changed after create";
        case error::resync_required: return "cursor is older than the retention horizon; resync from the beginning";
        case error::storage_failure: return "storage failure";
        }
        return "unknown incsync error";
    }
};

} // namespace detail

/// The category of `incsync::error` codes. A function-local static keeps the
/// library header-only with one category object per program.
inline const boost::system::error_category& error_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

/// An error code plus a detail naming what was wrong (a member, a parameter).
/// Cheap when there is no detail; the detail allocates only on failure paths.
struct error_info {
    boost::system::error_code code;
    std::string detail;

    error_info() = default;
    error_info(error e) : code(make_error_code(e)) {} // NOLINT: implicit by design
    error_info(error e, std::string what) : code(make_error_code(e)), detail(std::move(what)) {}
    error_info(boost::system::error_code ec, std::string what = {})
        : code(ec), detail(std::move(what)) {}

    /// "unknown member: colour", or just the code's message without detail.
    std::string message() const
    {
        return detail.empty() ? code.message() : code.message() + ": " + detail;
    }

    friend bool operator==(const error_info& a, error e) noexcept { return a.code == make_error_code(e); }
};

inline std::ostream& operator<<(std::ostream& os, error e) { return os << make_error_code(e).message(); }
inline std::ostream& operator<<(std::ostream& os, const error_info& e) { return os << e.message(); }

/// `result<T>` is what every fallible pure function of the library returns.
template <class T>
using result = boost::system::result<T, error_info>;

/// Lets `result<T>::value()` throw a `system_error` carrying the message.
[[noreturn]] inline void throw_exception_from_error(const error_info& e,
                                                   const boost::source_location& loc)
{
    boost::throw_exception(boost::system::system_error(e.code, e.detail), loc);
}

} // namespace incsync

template <>
struct boost::system::is_error_code_enum<incsync::error> : std::true_type {};

#endif
