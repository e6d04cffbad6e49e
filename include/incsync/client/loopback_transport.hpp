// The in-process transport: the client talks to a server `handler` and
// `notification_hub` in the same process, through the same JSON bodies and
// notification texts as over the network, with no sockets. For unit tests
// (it can go offline on command) and benchmarks. Models `transport`.
#ifndef INCSYNC_CLIENT_LOOPBACK_TRANSPORT_HPP
#define INCSYNC_CLIENT_LOOPBACK_TRANSPORT_HPP

#include <incsync/detail/asio_coroutines.hpp>
#include <incsync/client/detail/http_result.hpp>
#include <incsync/client/transport.hpp>
#include <incsync/detail/query_string.hpp>
#include <incsync/hub.hpp>
#include <incsync/server/handler.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

INCSYNC_BEGIN_ASIO_COROUTINES

namespace incsync::client {

namespace detail {

// Wakes a coroutine waiting on `timer` from any thread (the hub delivers on
// the writer's thread, with its lock held: only a post is allowed there).
class loopback_waker : public subscriber, public std::enable_shared_from_this<loopback_waker> {
public:
    loopback_waker(const boost::asio::any_io_executor& ex, std::shared_ptr<std::atomic<int>> drop = {})
        : timer(ex), drop_next(std::move(drop)) {}

    void deliver(const notification_ptr& n) override
    {
        {
            std::lock_guard lock(mutex);
            if (closed) return;
            ++seq;
            if (drop_next && drop_next->load() > 0) {
                --*drop_next; // lost on the way: the next one shows a gap in `seq`
                return;
            }
            queue.push_back(std::string(wire::seq_prefix(seq).view()) + n->body);
        }
        wake();
    }

    /// Ends a stream or a long-poll wait for good.
    void cancel()
    {
        {
            std::lock_guard lock(mutex);
            closed = true;
        }
        wake();
    }

    void wake()
    {
        boost::asio::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
    }

    boost::asio::steady_timer timer;
    std::mutex mutex;
    std::deque<std::string> queue;
    std::uint64_t seq = 0;
    bool closed = false;
    std::shared_ptr<std::atomic<int>> drop_next;
};

} // namespace detail

/// The loopback notification stream: what the hub delivers, with `seq`.
class loopback_stream {
public:
    loopback_stream(std::shared_ptr<detail::loopback_waker> w, notification_hub::subscription s,
                    std::shared_ptr<std::atomic<bool>> online)
        : waker_(std::move(w)), subscription_(std::move(s)), online_(std::move(online)) {}

    boost::asio::awaitable<stream_read> read()
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        for (;;) {
            {
                std::lock_guard lock(waker_->mutex);
                if (waker_->closed || !online_->load()) co_return stream_read{std::nullopt, "stream closed"};
                if (!waker_->queue.empty()) {
                    stream_read r{std::move(waker_->queue.front()), {}};
                    waker_->queue.pop_front();
                    co_return r;
                }
            }
            waker_->timer.expires_at(boost::asio::steady_timer::time_point::max());
            co_await waker_->timer.async_wait(as_tuple(use_awaitable));
        }
    }

    void close() noexcept
    {
        {
            std::lock_guard lock(waker_->mutex);
            waker_->closed = true;
        }
        subscription_.reset();
        waker_->timer.cancel();
    }

private:
    std::shared_ptr<detail::loopback_waker> waker_;
    notification_hub::subscription subscription_;
    std::shared_ptr<std::atomic<bool>> online_;
};

/// Talks to `handler` and `hub` in-process. Thread-safe with respect to the
/// server's writers; `set_online(false)` makes every exchange fail and ends
/// open streams, as a cut network would.
template <server_store Store>
class loopback_transport {
public:
    using stream_type = loopback_stream;

    loopback_transport(server::handler<Store>& handler, notification_hub& hub)
        : handler_(handler), hub_(hub), online_(std::make_shared<std::atomic<bool>>(true)),
          drop_(std::make_shared<std::atomic<int>>(0)) {}

    void set_online(bool online)
    {
        online_->store(online);
        if (!online) {
            std::lock_guard lock(streams_mutex_);
            for (auto& w : streams_)
                if (auto s = w.lock()) s->wake();
            streams_.clear();
        }
    }
    bool online() const { return online_->load(); }

    /// A fault injector: called with each GET's target; an answer it returns
    /// replaces the server's (a 500, a 429, a garbled body, no answer).
    using interceptor = std::function<std::optional<http_result>(std::string_view target)>;
    void intercept(interceptor fn)
    {
        std::lock_guard lock(streams_mutex_);
        interceptor_ = std::move(fn);
    }

    /// The next `n` notifications to open streams are lost on the way (their
    /// `seq` numbers are used, so the stream shows a gap).
    void drop_notifications(int n) { drop_->store(n); }

    /// Requests answered so far (pulls, checks, images).
    std::uint64_t requests() const { return requests_.load(); }
    /// Answers given with `status` so far.
    std::uint64_t answered(unsigned status) const { return status < statuses_.size() ? statuses_[status].load() : 0; }

    boost::asio::awaitable<http_result> get(std::string target, const request_options& o)
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        // The request is made before the first suspension: `o` views strings
        // its caller may change meanwhile.
        server::request req{boost::beast::http::verb::get, target, 11};
        if (!o.token.empty()) req.set(boost::beast::http::field::authorization, "Bearer " + std::string(o.token));
        if (!o.if_none_match.empty()) req.set(boost::beast::http::field::if_none_match, o.if_none_match);
        const auto timeout = o.timeout;
        auto ex = co_await boost::asio::this_coro::executor;
        co_await boost::asio::post(ex, use_awaitable); // asynchronous, as the network is
        if (!online_->load()) co_return no_answer("loopback offline");
        ++requests_;
        if (auto injected = intercepted(target)) co_return std::move(*injected);
        std::optional<server::long_poll> wait;
        auto res = handler_.handle(req, &wait);
        if (wait) {
            // Subscribe, then ask again: a change between the two is not missed.
            auto waker = std::make_shared<detail::loopback_waker>(ex);
            auto sub = hub_.subscribe(*waker, wait->store_id);
            track(waker);
            wait.reset();
            res = handler_.handle(req, &wait);
            if (wait) {
                waker->timer.expires_after(std::min<std::chrono::milliseconds>(wait->wait, timeout));
                co_await waker->timer.async_wait(as_tuple(use_awaitable));
                sub.reset();
                if (!online_->load()) co_return no_answer("loopback offline");
                res = handler_.handle(req);
            }
        }
        http_result out = detail::to_http_result(std::move(res));
        if (out.status < statuses_.size()) ++statuses_[out.status];
        co_return out;
    }

    /// A JSON POST (the analytics report), answered by the handler.
    boost::asio::awaitable<http_result> post(std::string target, std::string json, const request_options& o)
    {
        server::request req{boost::beast::http::verb::post, target, 11};
        if (!o.token.empty()) req.set(boost::beast::http::field::authorization, "Bearer " + std::string(o.token));
        req.set(boost::beast::http::field::content_type, "application/json");
        req.body() = std::move(json);
        req.prepare_payload();
        auto ex = co_await boost::asio::this_coro::executor;
        co_await boost::asio::post(ex, boost::asio::use_awaitable);
        if (!online_->load()) co_return no_answer("loopback offline");
        ++requests_;
        http_result out = detail::to_http_result(handler_.handle(req));
        if (out.status < statuses_.size()) ++statuses_[out.status];
        co_return out;
    }

    /// `target`: `/ws/sync/{id}?store_id=...`; the token comes from the
    /// options or `?token=`, as on the server.
    boost::asio::awaitable<stream_open<loopback_stream>> open_stream(std::string target, const request_options& o)
    {
        const std::string header_token(o.token); // `o` may not outlive the first suspension
        auto ex = co_await boost::asio::this_coro::executor;
        co_await boost::asio::post(ex, boost::asio::use_awaitable);
        stream_open<loopback_stream> out;
        if (!online_->load()) {
            out.refusal.failure = "loopback offline";
            co_return out;
        }
        auto t = incsync::detail::parse_target(target);
        std::string_view token = header_token.empty() ? t.get("token").value_or("") : std::string_view(header_token);
        auto who = handler_.authenticate(token);
        if (!who) {
            out.refusal = refusal(401, "unauthorized");
            co_return out;
        }
        std::optional<std::int64_t> store;
        if (auto s = t.get("store_id")) {
            std::int64_t v = 0;
            std::from_chars(s->data(), s->data() + s->size(), v);
            store = v;
        }
        if (who->role != server::role::admin) {
            if (store && store != who->store_id) {
                out.refusal = refusal(403, "forbidden");
                co_return out;
            }
            store = who->store_id;
        }
        auto waker = std::make_shared<detail::loopback_waker>(ex, drop_);
        auto sub = hub_.subscribe(*waker, store);
        track(waker);
        out.stream = std::make_shared<loopback_stream>(waker, std::move(sub), online_);
        co_return out;
    }

    void cancel_idle() noexcept {}

    void cancel_all() noexcept
    {
        std::lock_guard lock(streams_mutex_);
        for (auto& w : streams_)
            if (auto s = w.lock()) s->cancel();
    }

private:
    std::optional<http_result> intercepted(std::string_view target)
    {
        std::lock_guard lock(streams_mutex_);
        if (!interceptor_) return std::nullopt;
        return interceptor_(target);
    }

    void track(const std::shared_ptr<detail::loopback_waker>& w)
    {
        std::lock_guard lock(streams_mutex_);
        std::erase_if(streams_, [](const auto& x) { return x.expired(); });
        streams_.push_back(w);
    }

    static http_result refusal(unsigned status, std::string_view code)
    {
        http_result r;
        r.status = status;
        wire::append_error_json(r.body, code, "refused");
        r.failure = "refused";
        return r;
    }

    server::handler<Store>& handler_;
    notification_hub& hub_;
    std::shared_ptr<std::atomic<bool>> online_;
    std::shared_ptr<std::atomic<int>> drop_;
    std::atomic<std::uint64_t> requests_{0};
    std::array<std::atomic<std::uint64_t>, 600> statuses_{};
    std::mutex streams_mutex_;
    std::vector<std::weak_ptr<detail::loopback_waker>> streams_;
    interceptor interceptor_;
};

} // namespace incsync::client

INCSYNC_END_ASIO_COROUTINES

#endif
