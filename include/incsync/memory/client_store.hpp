// In-memory client store: a register's local replica, for tests and
// `--db :memory:`. Each entity type has its own reader-writer lock, so the POS
// reading products is never held up by a page of categories being applied.
// It keeps images too, and local edits, which server changes merge into
// member by member (server wins).
#ifndef INCSYNC_MEMORY_CLIENT_STORE_HPP
#define INCSYNC_MEMORY_CLIENT_STORE_HPP

#include <incsync/detail/json_writer.hpp>
#include <incsync/merge.hpp>
#include <incsync/store.hpp>

#include <boost/mp11/algorithm.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace incsync::memory {

namespace detail {

/// The JSON text of member `m` of `v`: the key of a secondary index, the
/// same for equal values whatever the member's type.
template <entity E>
std::string member_key(const E& v, std::size_t m)
{
    std::string key;
    boost::mp11::mp_with_index<member_count<E>>(m, [&](auto I) {
        using D = boost::mp11::mp_at_c<incsync::detail::public_members<E>, I>;
        incsync::detail::append_json_value(key, v.*D::pointer);
    });
    return key;
}

template <entity E>
struct replica_table {
    /// A secondary index on one member: (member's JSON, id) pairs.
    struct index {
        std::size_t member = 0;
        std::set<std::pair<std::string, std::int64_t>> entries;
    };

    mutable std::shared_mutex mutex;
    std::mutex writer; ///< one apply or edit at a time, held across a durable backend's write
    std::map<std::int64_t, E> rows;
    std::map<std::int64_t, E> edited_from; ///< locally edited rows: the server value the edit started from
    std::optional<sync_state> state;
    std::vector<index> indexes;

    using node_type = typename std::map<std::int64_t, E>::node_type;

    /// Links `node` in as the row of its id, keeping the indexes in step; the
    /// node of the row it replaced, if any. Caller holds the lock.
    std::optional<node_type> put(node_type node)
    {
        const std::int64_t id = node.key();
        auto it = rows.find(id);
        if (it == rows.end()) {
            for (auto& ix : indexes) ix.entries.insert({member_key(node.mapped(), ix.member), id});
            rows.insert(std::move(node));
            return std::nullopt;
        }
        for (auto& ix : indexes) {
            auto before = member_key(it->second, ix.member);
            auto after = member_key(node.mapped(), ix.member);
            if (before == after) continue;
            ix.entries.erase({std::move(before), id});
            ix.entries.insert({std::move(after), id});
        }
        std::swap(it->second, node.mapped()); // the old value leaves in `node`
        return node;
    }

    void put(const E& v)
    {
        std::map<std::int64_t, E> one;
        one.emplace(v.id, v);
        put(one.extract(one.begin()));
    }

    /// Unlinks row `id`; its node, to be freed by the caller.
    std::optional<node_type> erase(std::int64_t id)
    {
        auto it = rows.find(id);
        if (it == rows.end()) return std::nullopt;
        for (auto& ix : indexes) ix.entries.erase({member_key(it->second, ix.member), id});
        return rows.extract(it);
    }

    void clear()
    {
        rows.clear();
        edited_from.clear();
        for (auto& ix : indexes) ix.entries.clear();
    }
};

} // namespace detail

/// A page as it will be installed: the final rows (local edits merged in),
/// the new server values that locally edited rows now start from, the deletes
/// and the sync state. What a durable backend writes before readers see it.
template <entity E>
struct staged_page {
    bool reset = false;
    std::map<std::int64_t, E> rows;
    std::map<std::int64_t, E> bases;
    const std::vector<std::int64_t>& deletes;
    const sync_state& state;
};

/// In-memory `client_store` over the entity types of `Entities`.
/// Thread-safe; `apply` is atomic with respect to every reader.
template <entity_list_like Entities>
class client_store {
public:
    using entities = Entities;

    client_store() = default;
    client_store(const client_store&) = delete;
    client_store& operator=(const client_store&) = delete;

    /// Applies a page and its sync state as one step under the type's write
    /// lock: readers see the page entirely or not at all. The records are
    /// copied into map nodes before the lock is taken and the replaced ones
    /// freed after it is released, so readers wait only for the nodes to be
    /// linked in. Keep pages small (the sync service chunks large catch-ups).
    /// Should allocation fail midway, the state is not updated (it is written
    /// last), so the cursor stays behind the data and re-applying the page,
    /// which is idempotent, completes it.
    template <entity E>
    result<void> apply(const page_update<E>& page)
    {
        return apply(page, [](const staged_page<E>&) { return result<void>{}; });
    }

    /// `apply`, with `persist(staged)` called once the page's final rows are
    /// known (local edits merged in) and before any reader can see them; an
    /// error from it leaves the replica as it was. Durable backends write the
    /// page there, outside every lock readers take.
    template <entity E, class Persist>
    result<void> apply(const page_update<E>& page, Persist&& persist)
    {
        using rows_type = decltype(detail::replica_table<E>::rows);
        auto& t = table_of<E>();
        std::lock_guard one_writer(t.writer);
        staged_page<E> staged{page.reset, {}, {}, page.deletes, page.state};
        for (const auto& v : page.upserts) staged.rows.insert_or_assign(v.id, v);
        if (!page.reset) {
            std::shared_lock lock(t.mutex);
            for (auto& [id, v] : staged.rows) {
                auto base = t.edited_from.find(id);
                if (base == t.edited_from.end()) continue;
                // Server wins where it changed a member; the local edit survives
                // in the others, and is now relative to the new server value.
                E server_value = v;
                v = merge(base->second, t.rows.at(id), server_value);
                staged.bases.emplace(id, std::move(server_value));
            }
        }
        if (auto r = persist(std::as_const(staged)); !r) return r;

        std::vector<typename rows_type::node_type> replaced;
        replaced.reserve(staged.rows.size() + page.deletes.size());
        rows_type dropped; // a reset's old rows, freed after unlocking
        std::unique_lock lock(t.mutex);
        if (page.reset) {
            dropped.swap(t.rows);
            t.clear();
        }
        while (!staged.rows.empty()) {
            auto node = staged.rows.extract(staged.rows.begin());
            if (auto base = staged.bases.find(node.key()); base != staged.bases.end())
                t.edited_from.insert_or_assign(node.key(), std::move(base->second));
            if (auto old = t.put(std::move(node))) replaced.push_back(std::move(*old));
        }
        for (auto id : page.deletes) {
            if (auto old = t.erase(id)) replaced.push_back(std::move(*old));
            t.edited_from.erase(id);
        }
        t.state = page.state;
        return {};
    }

    /// A local edit of a record the replica holds (a change made at the
    /// till): visible to readers at once, kept through later pulls in every
    /// member the server does not change. `error::not_found` when the record
    /// is not there.
    template <entity E>
    result<void> edit(const E& value)
    {
        return edit(value, [](const E&, const std::optional<E>&) { return result<void>{}; });
    }

    /// `edit`, with `persist(value, base)` called before readers see it;
    /// `base` is the server value the edit starts from when the record had no
    /// local edit yet. An error from it leaves the replica as it was.
    template <entity E, class Persist>
    result<void> edit(const E& value, Persist&& persist)
    {
        auto& t = table_of<E>();
        std::lock_guard one_writer(t.writer);
        std::optional<E> base;
        {
            std::shared_lock lock(t.mutex);
            auto it = t.rows.find(value.id);
            if (it == t.rows.end()) return error::not_found;
            if (!t.edited_from.contains(value.id)) base = it->second;
        }
        if (auto r = persist(value, std::as_const(base)); !r) return r;
        std::unique_lock lock(t.mutex);
        if (base) t.edited_from.emplace(value.id, std::move(*base));
        t.put(value);
        return {};
    }

    /// Fills `E`'s table as a durable backend found it on opening: the rows,
    /// the server values that locally edited rows started from (by id), and
    /// the sync state. Replaces whatever the table held.
    template <entity E>
    void restore(std::vector<E> rows, std::map<std::int64_t, E> edited_from, std::optional<sync_state> state)
    {
        auto& t = table_of<E>();
        std::lock_guard one_writer(t.writer);
        std::unique_lock lock(t.mutex);
        t.clear();
        for (auto& v : rows) t.put(std::move(v));
        t.edited_from = std::move(edited_from);
        t.state = std::move(state);
    }

    /// Keeps an index on `member` of `E` so that `find` by it costs
    /// O(log n + matches) (a POS grid by `category_id`). `unknown_member`
    /// when `E` has no such member.
    template <entity E>
    result<void> add_index(std::string_view member)
    {
        const std::size_t m = member_index<E>(member);
        if (m == member_count<E>) return error_info(error::unknown_member, std::string(member));
        auto& t = table_of<E>();
        std::unique_lock lock(t.mutex);
        for (const auto& ix : t.indexes)
            if (ix.member == m) return {};
        auto& ix = t.indexes.emplace_back();
        ix.member = m;
        for (const auto& [id, v] : t.rows) ix.entries.insert({detail::member_key(v, m), id});
        return {};
    }

    /// The records of `E` whose `member` equals `value`, ordered by id. Uses
    /// the index on `member` when there is one, else scans.
    template <entity E, class V>
    result<std::vector<E>> find(std::string_view member, const V& value) const
    {
        const std::size_t m = member_index<E>(member);
        if (m == member_count<E>) return error_info(error::unknown_member, std::string(member));
        std::string key;
        incsync::detail::append_json_value(key, value);
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        std::vector<E> out;
        for (const auto& ix : t.indexes) {
            if (ix.member != m) continue;
            for (auto it = ix.entries.lower_bound({key, INT64_MIN}); it != ix.entries.end() && it->first == key; ++it)
                out.push_back(t.rows.at(it->second));
            return out;
        }
        for (const auto& [id, v] : t.rows)
            if (detail::member_key(v, m) == key) out.push_back(v);
        return out;
    }

    /// Number of records of `E` carrying local edits.
    template <entity E>
    std::size_t local_edits() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        return t.edited_from.size();
    }

    result<void> put_image(std::string_view type, std::int64_t id, const stored_image& image)
    {
        std::lock_guard lock(images_mutex_);
        images_.insert_or_assign({std::string(type), id}, image);
        return {};
    }

    result<void> remove_image(std::string_view type, std::int64_t id)
    {
        std::lock_guard lock(images_mutex_);
        images_.erase({std::string(type), id});
        return {};
    }

    result<std::optional<stored_image>> image(std::string_view type, std::int64_t id) const
    {
        std::lock_guard lock(images_mutex_);
        auto it = images_.find({std::string(type), id});
        if (it == images_.end()) return std::optional<stored_image>{};
        return std::optional<stored_image>{it->second};
    }

    std::size_t image_count() const
    {
        std::lock_guard lock(images_mutex_);
        return images_.size();
    }

    template <entity E>
    result<std::optional<E>> get(std::int64_t id) const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        auto it = t.rows.find(id);
        if (it == t.rows.end()) return std::optional<E>{};
        return std::optional<E>{it->second};
    }

    template <entity E>
    result<std::vector<E>> all() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        std::vector<E> out;
        out.reserve(t.rows.size());
        for (const auto& [id, v] : t.rows) out.push_back(v);
        return out;
    }

    template <entity E>
    result<std::optional<sync_state>> state() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        return t.state;
    }

    /// Number of records of `E`.
    template <entity E>
    std::size_t size() const
    {
        const auto& t = table_of<E>();
        std::shared_lock lock(t.mutex);
        return t.rows.size();
    }

private:
    template <entity E>
    detail::replica_table<E>& table_of() noexcept { return std::get<detail::replica_table<E>>(tables_); }
    template <entity E>
    const detail::replica_table<E>& table_of() const noexcept { return std::get<detail::replica_table<E>>(tables_); }

    boost::mp11::mp_rename<boost::mp11::mp_transform<detail::replica_table, Entities>, std::tuple> tables_;
    mutable std::mutex images_mutex_;
    std::map<std::pair<std::string, std::int64_t>, stored_image> images_;
};

} // namespace incsync::memory

#endif
