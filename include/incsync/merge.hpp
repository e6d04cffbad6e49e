// Server-wins merge, member by member: a local edit survives only in members
// the server did not change.
#ifndef INCSYNC_MERGE_HPP
#define INCSYNC_MERGE_HPP

#include <incsync/delta.hpp>

namespace incsync {

/// Merges when the members the server changed are known (`server_changed`,
/// e.g. from a change log entry or a delta page): those come from `server`,
/// every other member keeps the `local` value.
template <described T>
T merge(const T& local, const T& server, member_set server_changed)
{
    T merged = local;
    assign_members(merged, server, server_changed);
    return merged;
}

/// Three-way merge against `base`, the last server value both sides started
/// from: members where `server` differs from `base` take the server's value;
/// the others keep `local`'s, edited or not.
template <described T>
T merge(const T& base, const T& local, const T& server)
{
    return merge(local, server, diff(base, server));
}

} // namespace incsync

#endif
