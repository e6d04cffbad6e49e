// The notification hub: topics per store plus global, fanning one encoded
// notification out to every connection it concerns, and the per-connection
// outbox that bounds what a slow consumer can hold.
//
// Publishing takes the hub's lock only to hand the shared notification to
// each subscriber's `deliver`, which must enqueue and return (no I/O). The
// connection's own executor does the writing.
#ifndef INCSYNC_HUB_HPP
#define INCSYNC_HUB_HPP

#include <incsync/wire/notification.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace incsync {

using notification_ptr = std::shared_ptr<const wire::notification>;

/// A connection as the hub sees it. `deliver` is called with the hub's lock
/// held: it must not block, do I/O, or call back into the hub.
class subscriber {
public:
    virtual ~subscriber() = default;
    virtual void deliver(const notification_ptr& n) = 0;
};

/// Routes notifications to subscribers: a global change reaches everyone, a
/// store's change reaches that store's subscribers and the all-stores ones
/// (admin consoles), never another store's. Thread-safe.
class notification_hub {
public:
    /// Keeps a subscriber registered; unsubscribes on destruction.
    class subscription {
    public:
        subscription() = default;
        subscription(subscription&& o) noexcept : hub_(o.hub_), sub_(o.sub_) { o.hub_ = nullptr; }
        subscription& operator=(subscription&& o) noexcept
        {
            if (this != &o) {
                reset();
                hub_ = o.hub_;
                sub_ = o.sub_;
                o.hub_ = nullptr;
            }
            return *this;
        }
        ~subscription() { reset(); }
        void reset() noexcept
        {
            if (hub_) hub_->remove(sub_);
            hub_ = nullptr;
        }

    private:
        friend class notification_hub;
        subscription(notification_hub* hub, subscriber* sub) : hub_(hub), sub_(sub) {}
        notification_hub* hub_ = nullptr;
        subscriber* sub_ = nullptr;
    };

    /// Registers `s` for global changes and those of `store` (every store when
    /// nullopt). `s` must outlive the returned subscription.
    [[nodiscard]] subscription subscribe(subscriber& s, std::optional<std::int64_t> store)
    {
        std::lock_guard lock(mutex_);
        auto& topic = store ? stores_[*store] : all_stores_;
        places_[&s] = {store, topic.size()};
        topic.push_back(&s);
        return {this, &s};
    }

    /// Delivers `n` to every subscriber it concerns.
    void publish(const notification_ptr& n)
    {
        std::lock_guard lock(mutex_);
        for (auto* s : all_stores_) s->deliver(n);
        if (n->store_id) {
            if (auto it = stores_.find(*n->store_id); it != stores_.end())
                for (auto* s : it->second) s->deliver(n);
        } else {
            for (auto& [store, subs] : stores_)
                for (auto* s : subs) s->deliver(n);
        }
    }

    /// Encodes the change once and publishes it.
    void publish(const change& c) { publish(wire::make_notification(c)); }

    /// Delivers `n` to everyone (e.g. a `catch_up` after losing the broker).
    void broadcast(const notification_ptr& n)
    {
        std::lock_guard lock(mutex_);
        for (auto* s : all_stores_) s->deliver(n);
        for (auto& [store, subs] : stores_)
            for (auto* s : subs) s->deliver(n);
    }

    std::size_t subscribers() const
    {
        std::lock_guard lock(mutex_);
        return places_.size();
    }

private:
    struct place {
        std::optional<std::int64_t> store;
        std::size_t index;
    };

    void remove(subscriber* s) noexcept
    {
        std::lock_guard lock(mutex_);
        auto it = places_.find(s);
        if (it == places_.end()) return;
        const place p = it->second;
        places_.erase(it);
        auto& topic = p.store ? stores_[*p.store] : all_stores_;
        // Swap-remove: O(1), and fix the index of the subscriber moved.
        topic[p.index] = topic.back();
        topic.pop_back();
        if (p.index < topic.size()) places_[topic[p.index]].index = p.index;
        if (p.store && topic.empty()) stores_.erase(*p.store);
    }

    mutable std::mutex mutex_;
    std::vector<subscriber*> all_stores_;
    std::unordered_map<std::int64_t, std::vector<subscriber*>> stores_;
    std::unordered_map<subscriber*, place> places_;
};

/// The outgoing queue of one connection: bounded, with the per-connection
/// `seq` numbering. When a consumer falls `capacity` notifications behind,
/// the backlog is replaced by one `catch_up` (a notification is only a hint;
/// the pull is the source of truth), so memory stays bounded however long a
/// consumer stalls. Thread-safe: producers `push` from the hub, the
/// connection `take`s from its own executor.
class outbox {
public:
    /// One frame to send: the per-connection prefix and the shared body.
    struct frame {
        wire::seq_prefix prefix;
        notification_ptr body;
    };

    explicit outbox(std::size_t capacity = 256) : capacity_(capacity) {}

    /// Queues `n`. Returns true when the connection was idle and must now be
    /// woken to write (exactly one wake-up per idle period). `replaced`, when
    /// given, is set when this push replaced the backlog by a `catch_up`;
    /// `coalesced`, when given, is set to how many notifications this push
    /// left to that `catch_up` (0 when `n` was queued).
    bool push(const notification_ptr& n, bool* replaced = nullptr, std::uint64_t* coalesced = nullptr)
    {
        std::lock_guard lock(mutex_);
        std::uint64_t now_coalesced = 0;
        if (overflowed_) {
            now_coalesced = 1;
        } else if (queue_.size() >= capacity_) {
            now_coalesced = queue_.size() + 1;
            queue_.clear();
            overflowed_ = true;
            if (replaced) *replaced = true;
        } else {
            queue_.push_back(n);
        }
        coalesced_ += now_coalesced;
        if (coalesced) *coalesced = now_coalesced;
        if (writing_) return false;
        writing_ = true;
        return true;
    }

    /// Moves everything queued into `out` (appending), numbering frames. When
    /// nothing is queued, marks the connection idle and returns false: the
    /// next `push` wakes it again.
    bool take(std::vector<frame>& out)
    {
        std::lock_guard lock(mutex_);
        if (overflowed_) {
            out.push_back({wire::seq_prefix(++seq_), catch_up()});
            overflowed_ = false;
            return true;
        }
        if (queue_.empty()) {
            writing_ = false;
            return false;
        }
        for (auto& n : queue_) out.push_back({wire::seq_prefix(++seq_), std::move(n)});
        queue_.clear();
        // An idle connection keeps no memory from a past burst.
        if (queue_.capacity() > idle_capacity) queue_.shrink_to_fit();
        return true;
    }

    /// Notifications replaced by a `catch_up` so far.
    std::uint64_t coalesced() const
    {
        std::lock_guard lock(mutex_);
        return coalesced_;
    }

    std::size_t queued() const
    {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }

    /// The shared `{"type":"catch_up"}` body (after the seq prefix).
    static const notification_ptr& catch_up()
    {
        static const notification_ptr n = [] {
            auto c = std::make_shared<wire::notification>();
            c->body = R"("type":"catch_up"})";
            c->event = "catch_up";
            return c;
        }();
        return n;
    }

private:
    static constexpr std::size_t idle_capacity = 16;

    mutable std::mutex mutex_;
    std::vector<notification_ptr> queue_;
    std::size_t capacity_;
    std::uint64_t seq_ = 0;
    std::uint64_t coalesced_ = 0;
    bool overflowed_ = false;
    bool writing_ = false;
};

} // namespace incsync

#endif
