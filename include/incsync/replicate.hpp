// In-process replication: pull pages of one entity type from a server store
// straight into a client store, with no transport in between. The building
// block of the loopback transport, examples and benchmarks; over a network
// the client service does the same through HTTP.
#ifndef INCSYNC_REPLICATE_HPP
#define INCSYNC_REPLICATE_HPP

#include <incsync/pull.hpp>
#include <incsync/store.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace incsync {

/// What one `replicate` call did.
struct replication_stats {
    std::size_t pages = 0;
    std::size_t upserts = 0;
    std::size_t deletes = 0;
    bool resynced = false; ///< the cursor had expired; the type was reloaded from scratch
    version_t version = 0; ///< the replica now holds everything of E up to here
};

/// Pulls `E` for the view of `store_id` until caught up, applying each page to
/// `replica` atomically with its cursor. On `resync_required` the type is
/// reloaded from the beginning (once). Not thread-safe for one replica and
/// type: callers serialize syncs of the same type.
template <entity E, server_store Server, client_store Replica>
result<replication_stats> replicate(const Server& server, Replica& replica,
                                    std::optional<std::int64_t> store_id,
                                    std::size_t page_limit = default_page_limit)
{
    replication_stats stats;
    auto state = replica.template state<E>();
    if (!state) return state.error();
    std::string since = *state ? (*state)->cursor : std::string();
    bool reset = false;
    for (;;) {
        auto pulled = pull<E>(server, {since, store_id, page_limit});
        if (!pulled && pulled.error() == error::resync_required && !stats.resynced) {
            stats.resynced = reset = true;
            since.clear();
            continue;
        }
        if (!pulled) return pulled.error();
        page_update<E> update;
        update.reset = reset;
        reset = false;
        for (const auto& e : pulled->page.changes) update.upserts.push_back(e.record->value);
        for (const auto& t : pulled->page.deleted) update.deletes.push_back(t.id);
        update.state = {std::string(entity_type_name<E>), timestamp::now(), pulled->page.high_water, pulled->next_since};
        if (auto applied = replica.template apply<E>(update); !applied) return applied.error();
        ++stats.pages;
        stats.upserts += update.upserts.size();
        stats.deletes += update.deletes.size();
        stats.version = pulled->page.high_water;
        since = std::move(pulled->next_since);
        if (!pulled->page.has_more) return stats;
    }
}

/// `replicate` for every entity type of the server's list; stops at the first error.
template <server_store Server, client_store Replica>
result<replication_stats> replicate_all(const Server& server, Replica& replica,
                                        std::optional<std::int64_t> store_id,
                                        std::size_t page_limit = default_page_limit)
{
    replication_stats total;
    result<replication_stats> failure = total;
    for_each_entity<typename Server::entities>([&]<class E>(std::type_identity<E>) {
        if (!failure) return;
        auto r = replicate<E>(server, replica, store_id, page_limit);
        if (!r) {
            failure = r.error();
            return;
        }
        total.pages += r->pages;
        total.upserts += r->upserts;
        total.deletes += r->deletes;
        total.resynced = total.resynced || r->resynced;
        total.version = std::max(total.version, r->version);
    });
    if (!failure) return failure;
    return total;
}

} // namespace incsync

#endif
