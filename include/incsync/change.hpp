// The change log's vocabulary: versions, change types, log entries, and the
// immutable, shared record versions a store hands out.
#ifndef INCSYNC_CHANGE_HPP
#define INCSYNC_CHANGE_HPP

#include <incsync/codec.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>
#include <incsync/member_set.hpp>
#include <incsync/timestamp.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace incsync {

/// Position in the change log: every committed write gets the next version,
/// in commit order, across all entity types of a store. 0 is "before anything".
using version_t = std::uint64_t;

enum class change_type : std::uint8_t { create, update, remove };

/// "create", "update", "delete": the protocol's names.
constexpr std::string_view to_string(change_type t) noexcept
{
    switch (t) {
    case change_type::create: return "create";
    case change_type::update: return "update";
    case change_type::remove: return "delete";
    }
    return "update";
}

inline std::ostream& operator<<(std::ostream& os, change_type t) { return os << to_string(t); }

inline result<change_type> parse_change_type(std::string_view s) noexcept
{
    if (s == "create") return change_type::create;
    if (s == "update") return change_type::update;
    if (s == "delete") return change_type::remove;
    return error_info(error::wrong_type, "change_type");
}

/// One entry of the change log.
struct change {
    version_t version = 0;
    std::string_view entity_type;     ///< static storage: `entity_type_name<E>`
    std::int64_t id = 0;
    std::optional<std::int64_t> store_id; ///< nullopt: global record
    change_type type = change_type::update;
    member_set changed;               ///< members this write changed (all on create)
    timestamp committed_at;           ///< strictly increasing with `version`

    friend bool operator==(const change&, const change&) = default;
};

/// One version of a record: the value and its JSON text, encoded once when the
/// version is committed and shared (read-only) by every response that sends it.
template <entity E>
struct record {
    E value;
    std::string json;
    /// The quoted `updated_at`, which a pull's change entry repeats: formatted
    /// once here rather than once per response.
    std::array<char, timestamp_length + 2> updated_at_json;

    explicit record(E v) : record(std::move(v), std::string()) { json = to_json(value); }

    /// A version read back from storage together with the JSON text it was
    /// stored as (what `to_json` made of it then): not encoded a second time.
    record(E v, std::string stored_json) : value(std::move(v)), json(std::move(stored_json))
    {
        updated_at_json.front() = updated_at_json.back() = '"';
        format_timestamp_to(updated_at_json.data() + 1, value.updated_at);
    }

    std::string_view quoted_updated_at() const noexcept { return {updated_at_json.data(), updated_at_json.size()}; }
};

template <entity E>
using record_ptr = std::shared_ptr<const record<E>>;

template <entity E>
record_ptr<E> make_record(E value)
{
    return std::make_shared<const record<E>>(std::move(value));
}

template <entity E>
record_ptr<E> make_record(E value, std::string stored_json)
{
    return std::make_shared<const record<E>>(std::move(value), std::move(stored_json));
}

/// What a committed write returns: its log entry and the record as stored
/// (null after a delete). A write that changed nothing has an empty
/// `change.changed`, keeps the record's current version, and is not logged.
template <entity E>
struct commit {
    incsync::change change;
    record_ptr<E> record;

    bool is_noop() const noexcept { return change.type == change_type::update && change.changed.empty(); }
};

} // namespace incsync

#endif
