// The POS client: keeps a local replica in step with the server, silently.
//
// - Incremental sync per entity type: pages pulled with the stored cursor and
//   applied to the replica atomically with the new cursor, in small chunks so
//   readers on the POS thread are never held up; `resync_required` reloads
//   only that type (and sweeps records the reload did not bring back).
// - Real time: a WebSocket notification pulls its entity type; bursts
//   coalesce; a notification at or below the held version is skipped; a `seq`
//   gap or a `catch_up` pulls every type; reconnects back off with jitter and
//   fall back to long-polling `check` when the WebSocket keeps failing.
// - Every failure becomes status (`status.hpp`), with a retry policy per kind.
//   No member function throws (short of `bad_alloc`) or blocks the caller.
#ifndef INCSYNC_CLIENT_SYNC_CLIENT_HPP
#define INCSYNC_CLIENT_SYNC_CLIENT_HPP

#include <incsync/detail/asio_coroutines.hpp>
#include <incsync/client/analytics.hpp>
#include <incsync/client/backoff.hpp>
#include <incsync/client/status.hpp>
#include <incsync/client/transport.hpp>
#include <incsync/store.hpp>
#include <incsync/wire/client_messages.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

INCSYNC_BEGIN_ASIO_COROUTINES

namespace incsync::client {

/// What one page applied to the replica changed (for logs and UIs).
struct applied_page {
    std::string_view entity_type;
    std::span<const std::int64_t> upserted; ///< ids created or updated
    std::span<const std::int64_t> deleted;  ///< ids removed
    bool resync = false;                    ///< part of a reload from scratch
    version_t version = 0;
};

struct client_options {
    std::string token;                      ///< register token (Bearer)
    std::optional<std::int64_t> store_id;   ///< the register's store
    std::int64_t cash_register_id = 0;      ///< names the WebSocket (`/ws/sync/{id}`)
    std::size_t page_limit = default_page_limit;
    std::size_t apply_chunk = 256;          ///< records per replica write
    std::size_t max_parallel_pulls = 4;     ///< entity types pulled at once
    std::chrono::milliseconds coalesce_window{20}; ///< notifications of one type within it: one pull
    std::chrono::milliseconds reconnect_initial{500};
    std::chrono::milliseconds reconnect_max{std::chrono::seconds(30)};
    unsigned fallback_after = 3;            ///< failed WebSocket attempts before long-polling
    std::chrono::seconds long_poll_wait{25};
    std::chrono::milliseconds retry_initial{std::chrono::seconds(1)}; ///< failed pulls back off from here
    std::chrono::milliseconds retry_max{std::chrono::seconds(60)};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(15)};
    unsigned rate_limited_persistent = 3; ///< consecutive 429s of a type before its status shows them
    bool realtime = true;                   ///< connect the WebSocket (else pulls only on demand)
    /// Every this often, while online, the client posts its analytics (the
    /// status: pulls, errors, time offline) to `POST /api/v1/sync/analytics`,
    /// where the console sees which registers lag. 0: never.
    std::chrono::milliseconds analytics_interval{0};
    /// Called on the client's executor after each applied page. Must not throw.
    std::function<void(const applied_page&)> on_applied;
    /// Images (types with `image_version`, stores modelling `client_image_store`).
    bool images = true;
    int image_size = 110;                   ///< the rendition asked for (`?size=`)
    std::size_t image_concurrency = 2;      ///< downloads at once
    std::chrono::milliseconds image_retry_initial{std::chrono::seconds(2)};
    std::chrono::milliseconds image_retry_max{std::chrono::minutes(5)};
    unsigned image_failures_persistent = 3; ///< consecutive failures before status shows them
    /// Called on the client's executor after an image was stored or removed.
    std::function<void(std::string_view entity_type, std::int64_t id, std::int64_t version)> on_image;
};

/// The outcome of a sync of one entity type.
struct type_outcome {
    std::string entity_type;
    error_kind error = error_kind::none;
    std::string message;
    unsigned http_status = 0;
    std::chrono::seconds retry_after{0};
    std::size_t records = 0;
    std::size_t bytes = 0; ///< body bytes received, every page
    std::chrono::microseconds duration{0};
    bool resynced = false;
    bool ok() const noexcept { return error == error_kind::none; }

    static type_outcome failed(std::string type, error_kind kind, std::string message)
    {
        type_outcome o;
        o.entity_type = std::move(type);
        o.error = kind;
        o.message = std::move(message);
        return o;
    }
};

/// What an explicit sync did, type by type.
struct sync_report {
    std::vector<type_outcome> types;
    bool ok() const noexcept
    {
        return std::all_of(types.begin(), types.end(), [](const type_outcome& t) { return t.ok(); });
    }
};

namespace detail {

// The client's state. Everything here runs on `strand`; coroutines hold a
// shared_ptr so the state outlives the `sync_client` handle until they end.
template <client_store Store, transport Transport>
class client_core : public std::enable_shared_from_this<client_core<Store, Transport>> {
public:
    using entities = typename Store::entities;
    static constexpr std::size_t type_count = boost::mp11::mp_size<entities>::value;
    using strand_type = boost::asio::strand<boost::asio::any_io_executor>;
    using timer_type = boost::asio::steady_timer;

    client_core(boost::asio::any_io_executor ex, Store& store, Transport& transport, client_options options)
        : strand_(boost::asio::make_strand(ex)), store_(store), transport_(transport), options_(std::move(options)),
          token_(options_.token), wake_(strand_), permits_(strand_), analytics_timer_(strand_),
          reconnect_backoff_(options_.reconnect_initial, options_.reconnect_max),
          retry_backoff_(options_.retry_initial, options_.retry_max)
    {
        options_.page_limit = std::clamp<std::size_t>(options_.page_limit, 1, max_page_limit);
        options_.apply_chunk = std::max<std::size_t>(options_.apply_chunk, 1);
        options_.max_parallel_pulls = std::max<std::size_t>(options_.max_parallel_pulls, 1);
        std::size_t i = 0;
        for_each_entity<entities>([&]<class E>(std::type_identity<E>) {
            auto& s = slots_[i++];
            s.name = entity_type_name<E>;
            s.path = entity_path<E>;
            s.timer.emplace(strand_);
            s.idle.emplace(strand_);
        });
        board_.update([&](sync_status& st) {
            for (const auto& s : slots_) {
                st.types.emplace_back();
                st.types.back().entity_type = s.name;
            }
        });
    }

    // The transport's pooled sockets belong to this executor's context,
    // which outlives the core but not necessarily the transport: free them
    // while the context is still there.
    ~client_core() { transport_.cancel_all(); }

    client_core(const client_core&) = delete;
    client_core& operator=(const client_core&) = delete;

    status_board& board() noexcept { return board_; }
    const strand_type& strand() const noexcept { return strand_; }

    void start()
    {
        run([self = this->shared_from_this()]() -> boost::asio::awaitable<void> {
            if (self->started_ || self->stopped_) co_return;
            self->started_ = true;
            self->load_versions();
            self->scan_images();
            self->board_.update([](sync_status& s) { s.started = true; });
            // With real time, the first pulls follow the WebSocket's opening
            // (or its first failure): pulled before it, a change made in
            // between would wait for the next one.
            if (self->options_.realtime) self->spawn(self->realtime_loop());
            else self->catch_up_all();
            if (self->options_.analytics_interval.count() > 0) self->spawn(self->analytics_loop());
            co_return;
        });
    }

    void stop()
    {
        run([self = this->shared_from_this()]() -> boost::asio::awaitable<void> {
            self->shutdown();
            co_return;
        });
    }

    void sync_now()
    {
        run([self = this->shared_from_this()]() -> boost::asio::awaitable<void> {
            if (self->stopped_) co_return;
            self->clear_auth_failure();
            for (auto& s : self->slots_) s.failures = 0;
            self->retry_images_now();
            self->reconnect_failures_ = 0;
            self->wake_.cancel();
            self->catch_up_all(true);
            co_return;
        });
    }

    void set_token(std::string token)
    {
        run([self = this->shared_from_this(), token = std::move(token)]() mutable -> boost::asio::awaitable<void> {
            self->token_ = std::move(token);
            co_return;
        });
        sync_now();
    }

    void network_up()
    {
        run([self = this->shared_from_this()]() -> boost::asio::awaitable<void> {
            if (self->stopped_) co_return;
            self->reconnect_failures_ = 0;
            self->transport_.cancel_idle();
            self->wake_.cancel();
            self->catch_up_all(true);
            co_return;
        });
    }

    boost::asio::awaitable<type_outcome> sync_type_by_name(std::string name)
    {
        auto i = index_of(name);
        if (!i) co_return type_outcome::failed(name, error_kind::bad_data, "unknown entity type");
        co_return co_await sync_type_now(*i);
    }

    boost::asio::awaitable<sync_report> sync_all()
    {
        // Every type at once; the permits cap how many pull concurrently.
        sync_report report;
        report.types.resize(type_count);
        std::size_t remaining = type_count;
        timer_type done(strand_, timer_type::time_point::max());
        for (std::size_t i = 0; i < type_count; ++i) {
            boost::asio::co_spawn(strand_, sync_type_now(i),
                [&, i](std::exception_ptr e, type_outcome o) {
                    report.types[i] = e ? type_outcome::failed(std::string(slots_[i].name), error_kind::server_error, "internal error")
                                        : std::move(o);
                    if (--remaining == 0) done.cancel();
                });
        }
        while (remaining > 0) co_await done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        co_return report;
    }

    boost::asio::awaitable<std::vector<std::string>> check_once()
    {
        auto reply = co_await transport_.get(check_target("", std::chrono::seconds(0)), request_opts(options_.request_timeout));
        std::vector<std::string> changed;
        if (!note_reply(reply) || reply.status != 200) co_return changed;
        auto answer = wire::decode_check_response(reply.body);
        if (!answer) co_return changed;
        for (auto& name : answer->changed) {
            if (auto i = index_of(name)) request_sync(*i, false);
        }
        co_return std::move(answer->changed);
    }

    /// Runs `fn` (a coroutine factory) on the strand; exceptions become status.
    template <class F>
    void run(F fn)
    {
        boost::asio::co_spawn(strand_, std::move(fn), completion());
    }

private:
    struct slot {
        std::string_view name;
        std::string_view path;
        bool running = false;
        bool dirty = false;   // pull again after the running one
        bool armed = false;   // `timer` will start a pull
        version_t have = 0;   // the replica's version of this type
        version_t wanted = 0; // highest version notified
        unsigned failures = 0;
        std::uint64_t generation = 0; // of `timer`'s current arming
        error_kind error = error_kind::none;
        std::optional<timer_type> timer;  // coalescing window or retry delay
        std::optional<timer_type> idle;   // wakes those waiting for the running pull
        type_outcome last;
    };

    auto completion()
    {
        return [self = this->shared_from_this()](std::exception_ptr e) {
            if (!e) return;
            std::string what = "internal error";
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                what += ": ";
                what += ex.what();
            } catch (...) {
            }
            self->board_.update([&](sync_status& s) {
                s.last_error = sync_problem{error_kind::server_error, what, 0, timestamp::now(), 1};
            });
        };
    }

    void spawn(boost::asio::awaitable<void> task)
    {
        boost::asio::co_spawn(strand_, std::move(task), completion());
    }

    std::optional<std::size_t> index_of(std::string_view name) const
    {
        for (std::size_t i = 0; i < type_count; ++i)
            if (slots_[i].name == name || slots_[i].path == name) return i;
        return std::nullopt;
    }

    request_options request_opts(std::chrono::milliseconds timeout) const
    {
        return request_options{.token = token_, .if_none_match = {}, .timeout = timeout};
    }

    void load_versions()
    {
        std::size_t i = 0;
        for_each_entity<entities>([&]<class E>(std::type_identity<E>) {
            auto& s = slots_[i];
            if (auto st = store_.template state<E>(); st && *st) {
                s.have = (*st)->sync_version;
                board_.update([&](sync_status& status) {
                    status.types[i].version = s.have;
                    status.types[i].last_sync = (*st)->last_sync_timestamp;
                });
            }
            ++i;
        });
    }

    void shutdown()
    {
        if (stopped_) return;
        stopped_ = true;
        wake_.cancel();
        permits_.cancel();
        analytics_timer_.cancel();
        for (auto& s : slots_) {
            s.timer->cancel();
            s.idle->cancel();
        }
        for (auto& [key, job] : image_jobs_)
            if (job.retry) job.retry->cancel();
        if (stream_) stream_->close();
        transport_.cancel_all();
        board_.update([](sync_status& s) {
            s.realtime = channel::none;
            s.started = false;
        });
    }

    // ---- scheduling ---------------------------------------------------------

    /// Marks every type as possibly behind and pulls each (coalesced).
    void catch_up_all(bool immediate = true)
    {
        for (std::size_t i = 0; i < type_count; ++i) request_sync(i, immediate);
    }

    /// Asks for a pull of type `i`: now (`immediate`) or after the coalescing
    /// window; if one is running, one more follows it.
    void request_sync(std::size_t i, bool immediate)
    {
        if (stopped_) return;
        auto& s = slots_[i];
        set_pending(i, true);
        if (auth_failed_) return; // the pull would be refused too; sync_now resumes
        if (s.running) {
            s.dirty = true;
            return;
        }
        if (s.armed) {
            // A retry waiting out an error other than rate limiting yields to
            // a fresh reason to pull; a coalescing window is left to run.
            if (!immediate || s.error == error_kind::rate_limited) return;
            s.timer->cancel();
        }
        arm(i, immediate ? std::chrono::milliseconds(0) : options_.coalesce_window);
    }

    void arm(std::size_t i, std::chrono::milliseconds delay)
    {
        auto& s = slots_[i];
        s.armed = true;
        ++s.generation;
        s.timer->expires_after(delay);
        s.timer->async_wait([self = this->shared_from_this(), i, gen = s.generation](boost::system::error_code) {
            auto& s = self->slots_[i];
            if (gen != s.generation || self->stopped_) return; // superseded or stopped
            s.armed = false;
            if (!s.running) self->spawn(self->run_type(i));
        });
    }

    /// Waits for the running pull of `i`, then pulls `i` and returns how it went.
    boost::asio::awaitable<type_outcome> sync_type_now(std::size_t i)
    {
        auto& s = slots_[i];
        while (s.running && !stopped_)
            co_await s.idle->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (stopped_) co_return type_outcome::failed(std::string(s.name), error_kind::offline, "client stopped");
        if (s.armed) {
            ++s.generation; // the explicit pull replaces the scheduled one
            s.armed = false;
            s.timer->cancel();
        }
        co_await run_type(i);
        co_return s.last;
    }

    /// Pulls type `i` until it holds what was asked for, then sets its retry.
    boost::asio::awaitable<void> run_type(std::size_t i)
    {
        auto& s = slots_[i];
        s.running = true;
        set_syncing(i, true);
        type_outcome outcome;
        do {
            s.dirty = false;
            while (active_pulls_ >= options_.max_parallel_pulls && !stopped_)
                co_await permits_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (stopped_) break;
            ++active_pulls_;
            const auto started = std::chrono::steady_clock::now();
            outcome = co_await pull_index(i);
            outcome.duration =
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
            --active_pulls_;
            permits_.cancel_one();
            if (stopped_) break; // "client stopped" is no failure to show
            record(i, outcome);
        } while (outcome.ok() && !stopped_ && (s.dirty || s.wanted > s.have));
        s.running = false;
        s.idle->cancel();
        set_syncing(i, false);
        if (!stopped_ && !outcome.ok()) schedule_retry(i, outcome);
    }

    void schedule_retry(std::size_t i, const type_outcome& o)
    {
        auto& s = slots_[i];
        switch (o.error) {
        case error_kind::auth_expired:
            note_auth_failure();
            return; // until a new token or sync_now
        case error_kind::forbidden:
            return; // until sync_now
        case error_kind::rate_limited:
            arm(i, std::max<std::chrono::milliseconds>(o.retry_after, retry_backoff_.next(s.failures)));
            return;
        default:
            arm(i, retry_backoff_.ceiling(s.failures) / 2 + retry_backoff_.next(s.failures) / 2);
        }
    }

    boost::asio::awaitable<type_outcome> pull_index(std::size_t i)
    {
        return boost::mp11::mp_with_index<type_count>(i, [&](auto I) {
            return pull_type<boost::mp11::mp_at_c<entities, I>>();
        });
    }

    // ---- pulling ------------------------------------------------------------

    template <entity E>
    std::string pull_target(std::string_view since) const
    {
        std::string t = "/api/v1/sync/";
        t += entity_path<E>;
        t += "?limit=";
        t += std::to_string(options_.page_limit);
        // Global types are the same for every store: no store_id, so that
        // they stay readable whatever happens to the store's permissions.
        if (options_.store_id && entity_scope<E> != scope::global) {
            t += "&store_id=";
            t += std::to_string(*options_.store_id);
        }
        if (!since.empty()) {
            t += "&since=";
            t += since; // cursors are base64url: nothing to escape
        }
        return t;
    }

    std::string check_target(std::string_view since, std::chrono::seconds wait) const
    {
        std::string t = "/api/v1/sync/check?wait=" + std::to_string(wait.count());
        if (options_.store_id) t += "&store_id=" + std::to_string(*options_.store_id);
        if (!since.empty()) {
            t += "&since=";
            t += since;
        }
        return t;
    }

    static bool cursor_rejected(const http_result& r)
    {
        if (r.status == 410) return true;
        if (r.status != 400) return false;
        auto code = wire::error_code_of(r.body);
        return code == "bad_cursor" || code == "cursor_mismatch" || code == "bad_request";
    }

    template <entity E>
    boost::asio::awaitable<type_outcome> pull_type()
    {
        type_outcome out;
        out.entity_type = entity_type_name<E>;
        auto stored = store_.template state<E>();
        if (!stored) co_return local_failure(out, stored.error());
        const std::optional<sync_state> old = *stored;
        std::string since = old ? old->cursor : std::string();
        bool resync = false;
        std::vector<std::int64_t> seen; // ids a reload brought back, to sweep the rest
        for (;;) {
            auto reply = co_await transport_.get(pull_target<E>(since), request_opts(options_.request_timeout));
            if (stopped_) co_return failure(out, error_kind::offline, "client stopped");
            if (!note_reply(reply)) co_return failure(out, error_kind::offline, reply.failure);
            out.bytes += reply.wire_bytes;
            if (cursor_rejected(reply)) {
                if (resync || since.empty())
                    co_return failure(out, error_kind::cursor_expired, "the server rejects a reload from scratch", reply.status);
                resync = out.resynced = true;
                since.clear();
                continue;
            }
            if (reply.status != 200) co_return http_failure(out, reply);
            auto page = wire::decode_pull_response<E>(reply.body);
            if (!page) co_return failure(out, error_kind::bad_data, page.error().message(), reply.status);
            // A reload over an existing replica keeps the expired cursor until
            // its last page: a crash midway restarts the reload, and records
            // the reload did not bring back are swept at the end.
            const bool sweeping = resync && old.has_value();
            sync_state next{std::string(entity_type_name<E>), timestamp::now(), page->version, page->next_since};
            std::vector<std::int64_t> deletes = std::move(page->deletes);
            if (sweeping) {
                for (const auto& v : page->upserts) seen.push_back(v.id);
                if (!page->has_more) add_swept<E>(seen, deletes);
            }
            const sync_state& between = sweeping ? *old : (old ? *old : empty_state<E>());
            auto applied = co_await apply_in_chunks<E>(std::move(page->upserts), std::move(deletes),
                                                       sweeping && page->has_more ? *old : next, between,
                                                       resync, page->version, out.records);
            if (!applied) co_return local_failure(out, applied.error());
            if (!page->has_more) {
                slots_[entity_index<entities, E>].have = page->version;
                co_return out;
            }
            since = std::move(page->next_since);
        }
    }

    template <entity E>
    static const sync_state& empty_state()
    {
        static const sync_state s{std::string(entity_type_name<E>), std::nullopt, 0, {}};
        return s;
    }

    /// Adds to `deletes` the ids of the replica that a reload did not see.
    template <entity E>
    void add_swept(std::vector<std::int64_t>& seen, std::vector<std::int64_t>& deletes)
    {
        std::sort(seen.begin(), seen.end());
        auto all = store_.template all<E>();
        if (!all) return; // nothing swept now; the next reload will
        for (const auto& v : *all)
            if (!std::binary_search(seen.begin(), seen.end(), v.id)) deletes.push_back(v.id);
    }

    /// Applies upserts and deletes in chunks of `apply_chunk`, yielding between
    /// them so a reader of the replica waits for one chunk at most. Only the
    /// last chunk carries `final_state`; the others keep `between`, so the
    /// cursor is never ahead of the data.
    template <entity E>
    boost::asio::awaitable<result<void>> apply_in_chunks(std::vector<E> upserts, std::vector<std::int64_t> deletes,
                                                         const sync_state& final_state, const sync_state& between,
                                                         bool resync, version_t version, std::size_t& records)
    {
        const std::size_t chunk = options_.apply_chunk;
        std::size_t u = 0, d = 0;
        std::vector<std::int64_t> upserted_ids;
        do {
            page_update<E> update;
            const std::size_t take_u = std::min(chunk, upserts.size() - u);
            const std::size_t take_d = std::min(chunk - take_u, deletes.size() - d);
            update.upserts.assign(std::make_move_iterator(upserts.begin() + static_cast<std::ptrdiff_t>(u)),
                                  std::make_move_iterator(upserts.begin() + static_cast<std::ptrdiff_t>(u + take_u)));
            update.deletes.assign(deletes.begin() + static_cast<std::ptrdiff_t>(d),
                                  deletes.begin() + static_cast<std::ptrdiff_t>(d + take_d));
            u += take_u;
            d += take_d;
            const bool last = u == upserts.size() && d == deletes.size();
            update.state = last ? final_state : between;
            if (auto r = store_.template apply<E>(update); !r) co_return r.error();
            note_images<E>(update.upserts, update.deletes);
            records += take_u + take_d;
            if (options_.on_applied && (take_u || take_d)) {
                upserted_ids.clear();
                for (const auto& v : update.upserts) upserted_ids.push_back(v.id);
                options_.on_applied(applied_page{entity_type_name<E>, upserted_ids, update.deletes, resync, version});
            }
            if (last) break;
            co_await boost::asio::post(strand_, boost::asio::use_awaitable);
        } while (!stopped_);
        co_return result<void>{};
    }

    // ---- outcomes and status ---------------------------------------------------

    static type_outcome failure(type_outcome out, error_kind kind, std::string message, unsigned status = 0)
    {
        out.error = kind;
        out.message = std::move(message);
        out.http_status = status;
        return out;
    }

    static type_outcome local_failure(type_outcome out, const error_info& e)
    {
        return failure(std::move(out), error_kind::local_store, "local store: " + e.message());
    }

    static type_outcome http_failure(type_outcome out, const http_result& r)
    {
        auto code = wire::error_code_of(r.body);
        auto message = "HTTP " + std::to_string(r.status) + (code.empty() ? std::string() : " " + code);
        out.retry_after = r.retry_after;
        if (r.status == 401) return failure(std::move(out), error_kind::auth_expired, message, r.status);
        if (r.status == 403) return failure(std::move(out), error_kind::forbidden, message, r.status);
        if (r.status == 429) return failure(std::move(out), error_kind::rate_limited, message, r.status);
        return failure(std::move(out), error_kind::server_error, message, r.status);
    }

    /// Online bookkeeping for any reply; false when no answer came.
    bool note_reply(const http_result& r)
    {
        if (!r.answered()) {
            set_online(false);
            return false;
        }
        set_online(true);
        if (r.status == 401) note_auth_failure();
        return true;
    }

    /// `catch_up`: when this is a return from offline, pull every type.
    void set_online(bool online, bool catch_up = true)
    {
        if (online_ == online) return;
        const bool back = online && online_ == false;
        online_ = online;
        const auto now = timestamp::now();
        board_.update([&](sync_status& s) {
            s.online = online;
            if (!online) {
                s.offline_since = now;
            } else if (s.offline_since) {
                s.offline_time += std::chrono::microseconds(std::max<std::int64_t>(now.micros - s.offline_since->micros, 0));
                s.offline_since.reset();
            }
        });
        // Back online: whatever changed meanwhile is pulled now.
        if (back && catch_up && started_) catch_up_all();
    }

    /// The token was refused: stop using it (the WebSocket too) until a new
    /// one is set or the operator asks (`sync_now`).
    void note_auth_failure()
    {
        if (auth_failed_) return;
        auth_failed_ = true;
        if (stream_) stream_->close();
        board_.update([](sync_status& s) {
            s.auth_failure = true;
            s.last_error = sync_problem{error_kind::auth_expired, "the token was refused (HTTP 401)", 401, timestamp::now(), 1};
        });
    }

    void clear_auth_failure()
    {
        if (!auth_failed_) return;
        auth_failed_ = false;
        board_.update([](sync_status& s) {
            s.auth_failure = false;
            if (s.last_error && s.last_error->kind == error_kind::auth_expired && !s.has_error()) s.last_error.reset();
        });
    }

    void record(std::size_t i, const type_outcome& o)
    {
        auto& s = slots_[i];
        s.last = o;
        if (o.ok()) {
            s.failures = 0;
            s.error = error_kind::none;
        } else {
            s.failures = s.error == o.error ? s.failures + 1 : 1;
            s.error = o.error;
        }
        const auto now = timestamp::now();
        board_.update([&](sync_status& st) {
            auto& t = st.types[i];
            t.version = s.have;
            t.last_pull = pull_stats{o.duration, o.records, o.bytes, o.error, now};
            t.bytes += o.bytes;
            if (!o.ok()) ++t.failures;
            if (o.ok()) {
                t.error.reset();
                t.last_sync = now;
                st.last_sync = now;
                ++t.pulls;
                t.records += o.records;
                if (o.resynced) ++t.resyncs;
            } else if (o.error != error_kind::rate_limited || s.failures >= options_.rate_limited_persistent) {
                // Being paced by the server once in a while is normal; only
                // persistent rate limiting is trouble worth showing.
                t.error = sync_problem{o.error, o.message, o.http_status, now, s.failures};
                st.last_error = t.error;
            }
            if (!st.has_error()) st.last_error.reset();
            t.pending = !o.ok() || s.dirty || s.wanted > s.have;
            recount(st);
        });
    }

    void set_pending(std::size_t i, bool pending)
    {
        board_.update([&](sync_status& st) {
            st.types[i].pending = pending;
            recount(st);
        });
    }

    void set_syncing(std::size_t i, bool syncing)
    {
        board_.update([&](sync_status& st) { st.types[i].syncing = syncing; });
    }

    static void recount(sync_status& st)
    {
        st.pending = st.images_pending
            + static_cast<std::size_t>(std::count_if(st.types.begin(), st.types.end(),
                                                     [](const type_status& t) { return t.pending; }));
    }

    // ---- analytics -------------------------------------------------------------

    /// Posts the status as an analytics report every `analytics_interval`
    /// while online. A failed post is not retried early: the next report
    /// carries the same totals, newer.
    boost::asio::awaitable<void> analytics_loop()
    {
        while (!stopped_) {
            analytics_timer_.expires_after(options_.analytics_interval);
            co_await analytics_timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (stopped_) co_return;
            if (online_ != true || auth_failed_) continue;
            const auto report = to_analytics_report(board_.snapshot(), options_.cash_register_id, options_.store_id,
                                                    timestamp::now());
            auto reply = co_await transport_.post("/api/v1/sync/analytics", wire::to_json(report),
                                                  request_opts(options_.request_timeout));
            if (stopped_) co_return;
            note_reply(reply); // a report that gets no answer counts as offline, like any exchange
        }
    }

    // ---- real time -------------------------------------------------------------

    std::string stream_target() const
    {
        std::string t = "/ws/sync/" + std::to_string(options_.cash_register_id);
        if (options_.store_id) t += "?store_id=" + std::to_string(*options_.store_id);
        return t;
    }

    /// Waits `d` or until woken (sync_now, network_up, stop).
    boost::asio::awaitable<void> pause(std::chrono::milliseconds d)
    {
        wake_.expires_after(d);
        co_await wake_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    boost::asio::awaitable<void> realtime_loop()
    {
        bool connected_before = false;
        while (!stopped_) {
            if (auth_failed_) {
                co_await pause(std::chrono::hours(24));
                continue;
            }
            auto opened = co_await transport_.open_stream(stream_target(), request_opts(options_.request_timeout));
            if (stopped_) {
                if (opened.stream) opened.stream->close();
                break;
            }
            if (opened.stream) {
                reconnect_failures_ = 0;
                if (connected_before) board_.update([](sync_status& s) { ++s.reconnects; });
                connected_before = true;
                co_await run_stream(std::move(opened.stream));
                if (stopped_) break;
                ++reconnect_failures_; // jittered pause before reconnecting: no herd
            } else {
                note_reply(opened.refusal); // a 401 sets the auth failure
                if (auth_failed_) continue;
                if (!initial_catch_up_) { // no WebSocket yet: the data must not wait for one
                    initial_catch_up_ = true;
                    catch_up_all();
                }
                ++reconnect_failures_;
                // Long-poll until the WebSocket's next try. A long poll that
                // fails (no answer, an error) backs off below like any failed
                // try: going round at once would spin while the server is out
                // of reach and bring every register back in the same instant.
                if (reconnect_failures_ >= options_.fallback_after) {
                    const bool ran_its_course = co_await long_poll_for(reconnect_backoff_.ceiling(reconnect_failures_));
                    if (ran_its_course) continue;
                }
            }
            co_await pause(reconnect_backoff_.next(reconnect_failures_));
        }
    }

    boost::asio::awaitable<void> run_stream(std::shared_ptr<typename Transport::stream_type> stream)
    {
        stream_ = stream;
        last_seq_ = 0;
        set_online(true, false);
        board_.update([](sync_status& s) { s.realtime = channel::websocket; });
        initial_catch_up_ = true;
        catch_up_all(); // whatever happened while disconnected
        for (;;) {
            auto r = co_await stream->read();
            if (!r.message || stopped_) break;
            on_message(*r.message);
        }
        stream_.reset();
        board_.update([](sync_status& s) { s.realtime = channel::none; });
    }

    void on_message(std::string_view text)
    {
        auto m = wire::decode_stream_message(text);
        if (!m) return; // not ours to judge; a pull is the source of truth anyway
        if (m->seq) {
            if (*m->seq > last_seq_ + 1) catch_up_all(false); // a gap: some were missed
            last_seq_ = std::max(last_seq_, *m->seq);
        }
        using kind = wire::stream_message::kind;
        if (m->type == kind::catch_up) {
            catch_up_all(false);
            return;
        }
        if (m->type != kind::entity_updated) return;
        auto i = index_of(m->entity_type);
        bool skipped = i && m->version != 0 && m->version <= slots_[*i].have && !slots_[*i].running;
        board_.update([&](sync_status& s) {
            ++s.notifications;
            if (skipped) ++s.notifications_skipped;
        });
        if (!i || skipped) return;
        auto& s = slots_[*i];
        s.wanted = std::max(s.wanted, m->version);
        request_sync(*i, false);
    }

    /// Long-polls `check` for about `d`, then returns (to try the WebSocket
    /// again): true, or false when it gave up early on a failure.
    boost::asio::awaitable<bool> long_poll_for(std::chrono::milliseconds d)
    {
        board_.update([](sync_status& s) { s.realtime = channel::long_poll; });
        const auto deadline = std::chrono::steady_clock::now() + d;
        bool failed = false;
        while (!stopped_ && !auth_failed_ && std::chrono::steady_clock::now() < deadline) {
            auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now());
            auto wait = std::clamp(left, std::chrono::seconds(1), options_.long_poll_wait);
            auto reply = co_await transport_.get(check_target(check_cursor_, wait),
                                                 request_opts(wait + options_.request_timeout));
            if (stopped_) break;
            failed = true;
            if (!note_reply(reply)) break; // offline: back to the reconnect loop
            if (reply.status == 200) {
                if (auto answer = wire::decode_check_response(reply.body)) {
                    for (const auto& name : answer->changed)
                        if (auto i = index_of(name)) request_sync(*i, false);
                    check_cursor_ = std::move(answer->next_since);
                    failed = false;
                    continue;
                }
            }
            if (cursor_rejected(reply)) {
                check_cursor_.clear();
                failed = false;
                continue;
            }
            break; // another error: let the reconnect loop back off
        }
        board_.update([](sync_status& s) {
            if (s.realtime == channel::long_poll) s.realtime = channel::none;
        });
        co_return !failed;
    }

    strand_type strand_;
    Store& store_;
    Transport& transport_;
    client_options options_;
    std::string token_;
    status_board board_;
    std::array<slot, type_count> slots_;
    timer_type wake_;     // the reconnect loop's pause
    timer_type permits_;  // wakes pulls waiting for a free slot
    timer_type analytics_timer_;
    std::size_t active_pulls_ = 0;
    backoff reconnect_backoff_;
    backoff retry_backoff_;
    unsigned reconnect_failures_ = 0;
    std::shared_ptr<typename Transport::stream_type> stream_;
    std::uint64_t last_seq_ = 0;
    std::string check_cursor_;
    bool started_ = false;
    bool stopped_ = false;
    std::optional<bool> online_; // unknown until the first exchange
    bool initial_catch_up_ = false;
    bool auth_failed_ = false;

    // ---- images ----------------------------------------------------------------
    // A job per record whose stored image is missing or older than its
    // `image_version`; `image_queue_` holds the jobs ready to download.

    using image_key = std::pair<std::string_view, std::int64_t>; // entity type (static), id

    struct image_job {
        std::string_view path;
        std::int64_t version = 0;
        unsigned failures = 0;
        bool queued = false;
        std::shared_ptr<timer_type> retry; // set while waiting to retry
    };

    static constexpr bool keeps_images = client_image_store<Store>;

    bool images_enabled() const noexcept { return keeps_images && options_.images; }

    /// After a page of `E` is applied: fetch images whose version moved, drop
    /// those of records that lost theirs or were deleted.
    template <entity E>
    void note_images(const std::vector<E>& upserts, const std::vector<std::int64_t>& deletes)
    {
        if constexpr (has_image<E> && client_image_store<Store>) {
            if (!options_.images) return;
            constexpr std::string_view type = entity_type_name<E>;
            for (const auto& v : upserts) {
                if (v.image_version == 0) {
                    forget_image(type, v.id);
                    continue;
                }
                auto stored = store_.image(type, v.id);
                if (stored && *stored && (*stored)->version == v.image_version) continue;
                want_image(type, entity_path<E>, v.id, v.image_version);
            }
            for (auto id : deletes) forget_image(type, id);
            update_image_status();
        }
    }

    /// At start: records whose image is missing or stale (a download that
    /// failed before a restart) are fetched again.
    void scan_images()
    {
        if (!images_enabled()) return;
        for_each_entity<entities>([&]<class E>(std::type_identity<E>) {
            if constexpr (has_image<E>) {
                if (auto all = store_.template all<E>()) note_images<E>(*all, {});
            }
        });
    }

    void want_image(std::string_view type, std::string_view path, std::int64_t id, std::int64_t version)
    {
        auto& job = image_jobs_[image_key{type, id}];
        job.path = path;
        if (job.version != version) job.failures = 0;
        job.version = version;
        if (job.retry) return; // waiting out a failure: the retry takes the new version
        queue_image(image_key{type, id});
    }

    void forget_image(std::string_view type, std::int64_t id)
    {
        if constexpr (keeps_images) {
            if (auto it = image_jobs_.find(image_key{type, id}); it != image_jobs_.end()) {
                if (it->second.retry) it->second.retry->cancel();
                image_jobs_.erase(it);
            }
            if (auto stored = store_.image(type, id); stored && *stored) (void)store_.remove_image(type, id);
        }
    }

    void queue_image(image_key key)
    {
        auto& job = image_jobs_[key];
        if (job.queued) return;
        job.queued = true;
        image_queue_.push_back(key);
        // A new worker may run at once and take the job before this loop
        // looks again: spawn only while jobs outnumber the workers.
        while (image_workers_ < std::max<std::size_t>(options_.image_concurrency, 1)
               && image_workers_ < image_queue_.size()) {
            ++image_workers_;
            spawn(image_worker());
        }
    }

    void retry_images_now()
    {
        for (auto& [key, job] : image_jobs_)
            if (job.retry) job.retry->cancel(); // the retry handler queues it at once
    }

    void update_image_status()
    {
        std::size_t failing = 0;
        for (const auto& [key, job] : image_jobs_)
            if (job.failures >= options_.image_failures_persistent) ++failing;
        board_.update([&](sync_status& st) {
            st.images_pending = image_jobs_.size();
            st.images_failing = failing;
            recount(st);
        });
    }

    boost::asio::awaitable<void> image_worker()
    {
        while (!stopped_ && !image_queue_.empty()) {
            const image_key key = image_queue_.front();
            image_queue_.pop_front();
            auto it = image_jobs_.find(key);
            if (it == image_jobs_.end()) continue;
            it->second.queued = false;
            const std::int64_t version = it->second.version;
            co_await download_image(key, it->second.path, version);
            update_image_status();
        }
        --image_workers_;
    }

    boost::asio::awaitable<void> download_image(image_key key, std::string_view path, std::int64_t version)
    {
        if constexpr (keeps_images) {
            auto [type, id] = key;
            auto stored = store_.image(type, id);
            std::optional<stored_image> have = stored ? *stored : std::nullopt;
            std::string target = "/api/v1/" + std::string(path) + "/" + std::to_string(id)
                + "/image?size=" + std::to_string(options_.image_size);
            auto o = request_opts(options_.request_timeout);
            if (have) o.if_none_match = have->etag;
            auto reply = co_await transport_.get(target, o);
            if (stopped_) co_return;
            auto it = image_jobs_.find(key);
            if (it == image_jobs_.end()) co_return; // the record or its image went away meanwhile
            bool done = false;
            if (note_reply(reply)) {
                if (reply.status == 200) {
                    done = store_.put_image(type, id, stored_image{version, reply.etag, reply.content_type,
                                                                   std::move(reply.body)}).has_value();
                } else if (reply.status == 304 && have) {
                    have->version = version;
                    done = store_.put_image(type, id, *have).has_value();
                } else if (reply.status == 404) {
                    (void)store_.remove_image(type, id); // no image (any more): nothing to retry
                    done = true;
                }
            }
            auto& job = it->second;
            if (done) {
                if (options_.on_image) options_.on_image(type, id, version);
                if (job.version == version) image_jobs_.erase(it);
                else queue_image(key); // a newer version arrived meanwhile
                co_return;
            }
            // Rate limiting is the server pacing a big download, not a failure.
            std::chrono::milliseconds delay = reply.retry_after;
            if (reply.status != 429) {
                ++job.failures;
                delay = image_backoff_.next(job.failures) / 2 + image_backoff_.ceiling(job.failures) / 2;
            }
            job.retry = std::make_shared<timer_type>(strand_, delay);
            job.retry->async_wait([self = this->shared_from_this(), key, t = job.retry](boost::system::error_code) {
                auto it = self->image_jobs_.find(key);
                if (self->stopped_ || it == self->image_jobs_.end() || it->second.retry != t) return;
                it->second.retry.reset();
                self->queue_image(key);
            });
        }
    }

    std::map<image_key, image_job> image_jobs_;
    std::deque<image_key> image_queue_;
    std::size_t image_workers_ = 0;
    backoff image_backoff_{options_.image_retry_initial, options_.image_retry_max};
};

} // namespace detail

/// Keeps a `Store` (a `client_store`) in step with a server reached through a
/// `Transport` (a `transport`), on a strand of the executor it is given: give
/// it its own thread (or a low-priority pool) so the POS thread only ever
/// reads the store. Lifetimes: `Store` and `Transport` must outlive the
/// executor's work (declare them before the `sync_thread`), and the
/// executor's context must outlive the `sync_client`.
///
/// Thread safety: every member function may be called from any thread; they
/// post work and return at once. Exceptions: none escape to the caller (an
/// internal failure becomes `last_error` in the status).
template <client_store Store, transport Transport>
class sync_client {
public:
    using core_type = detail::client_core<Store, Transport>;

    sync_client(boost::asio::any_io_executor ex, Store& store, Transport& transport, client_options options)
        : core_(std::make_shared<core_type>(std::move(ex), store, transport, std::move(options))) {}
    ~sync_client() { core_->stop(); }
    sync_client(const sync_client&) = delete;
    sync_client& operator=(const sync_client&) = delete;

    /// Loads the stored versions, pulls every type (the initial full sync
    /// when the store is empty) and connects for notifications.
    void start() { core_->start(); }
    /// Stops all sync work; in-flight requests are aborted.
    void stop() { core_->stop(); }
    /// The operator's "Sync Now": clears auth failure and backoffs, pulls every type.
    void sync_now() { core_->sync_now(); }
    /// A new token (after re-authentication); then as `sync_now`.
    void set_token(std::string token) { core_->set_token(std::move(token)); }
    /// The machine's network came back: reconnect at once and catch up.
    void network_up() { core_->network_up(); }

    sync_status status() const { return core_->board().snapshot(); }
    status_board& board() noexcept { return core_->board(); }
    /// Calls `fn(status)` on `ex` whenever the status changes.
    [[nodiscard]] status_board::subscription subscribe(boost::asio::any_io_executor ex, status_board::callback fn)
    {
        return core_->board().subscribe(std::move(ex), std::move(fn));
    }

    /// Pulls one entity type (by `entity_type` or path) until caught up.
    /// Completion signature: `void(type_outcome)`.
    template <class CompletionToken = boost::asio::detached_t>
    auto perform_incremental_sync(std::string entity_type, CompletionToken&& token = {})
    {
        return initiate<type_outcome>(
            [core = core_, name = std::move(entity_type)]() { return core->sync_type_by_name(name); },
            std::forward<CompletionToken>(token));
    }

    /// Pulls every entity type, `max_parallel_pulls` at a time; a failing type
    /// does not stop the others. Completion signature: `void(sync_report)`.
    template <class CompletionToken = boost::asio::detached_t>
    auto perform_full_incremental_sync(CompletionToken&& token = {})
    {
        return initiate<sync_report>([core = core_]() { return core->sync_all(); },
                                     std::forward<CompletionToken>(token));
    }

    /// Asks the server which types changed (`check`) and pulls those.
    /// Completion signature: `void(std::vector<std::string>)` (the changed types;
    /// empty on failure, which shows in the status).
    template <class CompletionToken = boost::asio::detached_t>
    auto check_for_updates(CompletionToken&& token = {})
    {
        return initiate<std::vector<std::string>>([core = core_]() { return core->check_once(); },
                                                  std::forward<CompletionToken>(token));
    }

private:
    template <class R, class Factory, class CompletionToken>
    auto initiate(Factory make, CompletionToken&& token)
    {
        return boost::asio::async_initiate<CompletionToken, void(R)>(
            [core = core_, make = std::move(make)](auto handler) mutable {
                auto ex = boost::asio::get_associated_executor(handler, core->strand());
                // The handler holds the core: the coroutine's frame only has `this`.
                boost::asio::co_spawn(core->strand(), make(),
                    [h = std::move(handler), ex, core](std::exception_ptr, R r) mutable {
                        boost::asio::dispatch(ex, [h = std::move(h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
                    });
            },
            token);
    }

    std::shared_ptr<core_type> core_;
};

} // namespace incsync::client

INCSYNC_END_ASIO_COROUTINES

#endif
