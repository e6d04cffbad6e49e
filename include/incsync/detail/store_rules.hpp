// What every server store backend does the same way: how records are
// partitioned into views (global rows, one store's rows), which members a
// write may not set, and what an update makes of the stored record. Shared so
// the memory and SQLite stores (and PostgreSQL later) cannot drift apart.
#ifndef INCSYNC_DETAIL_STORE_RULES_HPP
#define INCSYNC_DETAIL_STORE_RULES_HPP

#include <incsync/delta.hpp>
#include <incsync/entity.hpp>
#include <incsync/error.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

namespace incsync::detail {

/// The partition of global rows; store rows are partitioned by store_id.
inline constexpr std::int64_t global_partition = std::numeric_limits<std::int64_t>::min();

template <entity E>
std::int64_t partition_of(const E& v) noexcept
{
    return store_of(v).value_or(global_partition);
}

/// Whether a row of `partition` belongs to the view of `store` (all rows
/// when nullopt): for store-scoped types that store's rows, for mixed scope
/// the global rows too, for global types everything.
template <entity E>
bool in_view(std::int64_t partition, std::optional<std::int64_t> store) noexcept
{
    if constexpr (entity_scope<E> == scope::global) return true;
    else if constexpr (entity_scope<E> == scope::store) return !store || partition == *store;
    else return !store || partition == global_partition || partition == *store;
}

template <entity E>
inline constexpr std::size_t updated_at_index = member_index<E>("updated_at");

/// `id` and `updated_at`: the store sets them, never input.
template <entity E>
constexpr member_set fixed_members() noexcept
{
    return member_set{}.set(member_index<E>("id")).set(updated_at_index<E>);
}

/// An update of `old`: `members` of `value` copied onto it (less the fixed
/// ones), and the members that actually changed (empty: a no-op). Moving a
/// record to another store is `immutable_member`.
template <entity E>
result<std::pair<E, member_set>> updated_record(const E& old, const E& value, member_set members)
{
    E next = old;
    assign_members(next, value, members - fixed_members<E>());
    if (partition_of(next) != partition_of(old)) return error_info(error::immutable_member, "store_id");
    member_set changed = diff(old, next);
    return std::pair{std::move(next), changed};
}

} // namespace incsync::detail

#endif
