// One hiredis asynchronous connection driven by Boost.Asio: hiredis's event
// hooks (addRead, delRead, addWrite, delWrite, cleanup) arm and disarm
// `async_wait`s on a `posix::stream_descriptor` wrapping hiredis's socket.
//
// Why the shape:
// - hiredis owns the socket: `cleanup` releases the descriptor (which also
//   aborts pending waits), never closes it; `redisFree` closes it.
// - Every event for the owner (connected, closed, a reply) is posted to the
//   executor rather than called from inside hiredis: the owner may then
//   close or drop the connection from any handler without freeing a context
//   hiredis is still using. After `close()`, nothing more is delivered.
// - Waits hold a `shared_ptr` to the connection, so it outlives any handler
//   still queued after the context is gone; handlers then find `ac_` null.
// - One object, one connection attempt: reconnecting is a new object, so a
//   stale handler can never drive a later context.
#ifndef INCSYNC_REDIS_DETAIL_HIREDIS_ASIO_HPP
#define INCSYNC_REDIS_DETAIL_HIREDIS_ASIO_HPP

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace incsync::redis::detail {

/// A reply copied out of hiredis's (which is freed when its callback returns).
struct reply {
    int type = 0;           ///< REDIS_REPLY_*
    long long integer = 0;  ///< REDIS_REPLY_INTEGER
    std::string str;        ///< string, status or error text
    std::vector<reply> elements;

    bool is_error() const noexcept { return type == REDIS_REPLY_ERROR; }

    static reply copy(const redisReply& r)
    {
        reply out;
        out.type = r.type;
        out.integer = r.integer;
        if (r.str) out.str.assign(r.str, r.len);
        out.elements.reserve(r.elements);
        for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy(*r.element[i]));
        return out;
    }
};

/// One connection to a Redis server. Every member function, and every
/// handler, runs on the executor given at construction, which must not run
/// two handlers at once (a strand, or an io_context run by one thread).
class hiredis_asio : public std::enable_shared_from_this<hiredis_asio> {
public:
    struct handlers {
        std::function<void()> connected;
        /// The attempt failed, timed out, or the connection broke: called
        /// once, with why; never after `close()`.
        std::function<void(std::string)> closed;
    };
    using reply_handler = std::function<void(const reply&)>;

    explicit hiredis_asio(boost::asio::any_io_executor ex)
        : ex_(ex), descriptor_(ex), timer_(ex), resolver_(ex)
    {
    }
    hiredis_asio(const hiredis_asio&) = delete;
    hiredis_asio& operator=(const hiredis_asio&) = delete;
    ~hiredis_asio() { close(); }

    /// Connects (once per object) without blocking: a host name is resolved
    /// by Asio first (its first address is used), hiredis then connects to
    /// the address. `timeout` bounds resolution and TCP connection together.
    void connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout, handlers h)
    {
        handlers_ = std::move(h);
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->connected_ && !self->closed_) self->fail_and_free("connect timed out");
        });
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(host, ec);
        if (!ec) return open(address.to_string(), port);
        resolver_.async_resolve(host, std::to_string(port),
                                [self = shared_from_this(), port](boost::system::error_code ec,
                                                                 const boost::asio::ip::tcp::resolver::results_type& r) {
                                    if (self->closed_ || self->failed_) return;
                                    if (ec || r.empty()) return self->fail_and_free("resolve: " + ec.message());
                                    self->open(r.begin()->endpoint().address().to_string(), port);
                                });
    }

    /// Sends a command (hiredis queues it until the socket is writable).
    /// `on_reply` gets each reply: one, or for SUBSCRIBE the confirmation
    /// and then every message (`persistent`). False when there is no
    /// context: not opened yet (a name still resolving), or gone.
    bool command(const std::vector<std::string>& args, reply_handler on_reply = {}, bool persistent = false)
    {
        if (!ac_ || failed_) return false;
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        void* privdata = nullptr;
        std::uint64_t id = 0;
        if (on_reply) {
            id = ++last_id_;
            replies_.emplace(id, pending{std::move(on_reply), persistent});
            privdata = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
        }
        if (redisAsyncCommandArgv(ac_, privdata ? &on_reply_cb : nullptr, privdata, static_cast<int>(argv.size()),
                                  argv.data(), lens.data())
            != REDIS_OK) {
            replies_.erase(id);
            return false;
        }
        return true;
    }

    /// Frees the context (closing its socket) and cancels the timers;
    /// nothing is delivered afterwards. Not from inside a hiredis callback,
    /// which no owner code ever runs in (everything is posted).
    void close() noexcept
    {
        closed_ = true;
        timer_.cancel();
        resolver_.cancel();
        free_context();
        handlers_ = {};
        replies_.clear();
    }

    bool connected() const noexcept { return connected_ && ac_ != nullptr; }

private:
    struct pending {
        reply_handler fn;
        bool persistent = false;
    };

    void open(const std::string& ip, std::uint16_t port)
    {
        ac_ = redisAsyncConnect(ip.c_str(), port);
        if (!ac_) return fail("out of memory");
        if (ac_->err) return fail_and_free("connect " + ip + ":" + std::to_string(port) + ": " + ac_->errstr);
        boost::system::error_code ec;
        descriptor_.assign(ac_->c.fd, ec);
        if (ec) return fail_and_free("watch socket: " + ec.message());
        redisEnableKeepAlive(&ac_->c); // a silently dead peer is noticed within about 30 s
        ac_->data = this;
        ac_->ev.data = this;
        ac_->ev.addRead = [](void* p) { static_cast<hiredis_asio*>(p)->want(dir::read, true); };
        ac_->ev.delRead = [](void* p) { static_cast<hiredis_asio*>(p)->want(dir::read, false); };
        ac_->ev.addWrite = [](void* p) { static_cast<hiredis_asio*>(p)->want(dir::write, true); };
        ac_->ev.delWrite = [](void* p) { static_cast<hiredis_asio*>(p)->want(dir::write, false); };
        ac_->ev.cleanup = [](void* p) { static_cast<hiredis_asio*>(p)->on_cleanup(); };
        redisAsyncSetDisconnectCallback(ac_, &on_disconnect_cb);
        redisAsyncSetConnectCallback(ac_, &on_connect_cb); // arms the first write wait
    }

    // One direction: wanted by hiredis, and whether a wait is outstanding.
    enum class dir { read, write };
    struct direction {
        bool wanted = false;
        bool armed = false;
    };
    direction& state(dir d) noexcept { return d == dir::write ? write_ : read_; }

    void want(dir d, bool on)
    {
        state(d).wanted = on;
        if (on) arm(d);
    }

    void arm(dir d)
    {
        auto& s = state(d);
        if (!ac_ || !s.wanted || s.armed) return;
        s.armed = true;
        using sd = boost::asio::posix::stream_descriptor;
        descriptor_.async_wait(d == dir::write ? sd::wait_write : sd::wait_read,
                               [self = shared_from_this(), d](boost::system::error_code ec) {
                                   auto& s = self->state(d);
                                   s.armed = false;
                                   // Aborted by cleanup, or the context went away
                                   // while this completion was queued.
                                   if (ec || !self->ac_ || !s.wanted) return;
                                   if (d == dir::write) redisAsyncHandleWrite(self->ac_);
                                   else redisAsyncHandleRead(self->ac_);
                                   self->arm(d); // hiredis's events persist until del*
                               });
    }

    void on_cleanup() noexcept
    {
        read_.wanted = write_.wanted = false;
        if (descriptor_.is_open()) (void)descriptor_.release(); // hiredis closes the fd
    }

    static void on_connect_cb(const redisAsyncContext* ac, int status)
    {
        auto* self = static_cast<hiredis_asio*>(ac->data);
        if (self->ignoring()) return;
        if (status != REDIS_OK) {
            const std::string why = ac->errstr ? ac->errstr : "connect failed";
            self->ac_ = nullptr; // hiredis frees it when this returns
            return self->fail("connect: " + why);
        }
        self->connected_ = true;
        self->timer_.cancel();
        self->deliver([](hiredis_asio& s) {
            // Moved out first: the handler may close this connection.
            if (auto h = std::exchange(s.handlers_.connected, nullptr)) h();
        });
    }

    static void on_disconnect_cb(const redisAsyncContext* ac, int)
    {
        auto* self = static_cast<hiredis_asio*>(ac->data);
        if (self->ignoring()) return;
        const std::string why = ac->err && ac->errstr ? ac->errstr : "closed";
        self->ac_ = nullptr; // being freed by hiredis
        self->fail("connection lost: " + why);
    }

    static void on_reply_cb(redisAsyncContext* ac, void* r, void* privdata)
    {
        auto* self = static_cast<hiredis_asio*>(ac->data);
        // A null reply: the context is going away; `closed` says why.
        if (self->ignoring() || !r) return;
        const auto it = self->replies_.find(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(privdata)));
        if (it == self->replies_.end()) return;
        auto fn = it->second.persistent ? it->second.fn : std::move(it->second.fn);
        if (!it->second.persistent) self->replies_.erase(it);
        self->deliver([fn = std::move(fn), rep = reply::copy(*static_cast<redisReply*>(r))](hiredis_asio&) {
            fn(rep);
        });
    }

    template <class F>
    void deliver(F f)
    {
        boost::asio::post(ex_, [self = shared_from_this(), f = std::move(f)]() mutable {
            if (!self->closed_) f(*self);
        });
    }

    void fail(std::string why)
    {
        if (failed_) return;
        failed_ = true;
        timer_.cancel();
        deliver([why = std::move(why)](hiredis_asio& s) {
            if (auto h = std::exchange(s.handlers_.closed, nullptr)) h(why);
        });
    }

    void fail_and_free(std::string why)
    {
        fail(std::move(why));
        resolver_.cancel();
        free_context();
    }

    void free_context() noexcept
    {
        if (!ac_) return;
        auto* ac = std::exchange(ac_, nullptr);
        freeing_ = true; // its callbacks (null replies, disconnect) are ours, not news
        redisAsyncFree(ac); // runs cleanup, then closes the socket
        freeing_ = false;
        on_cleanup(); // when hooks were never attached
    }

    bool ignoring() const noexcept { return closed_ || freeing_; }

    boost::asio::any_io_executor ex_;
    boost::asio::posix::stream_descriptor descriptor_;
    boost::asio::steady_timer timer_;
    boost::asio::ip::tcp::resolver resolver_;
    redisAsyncContext* ac_ = nullptr;
    handlers handlers_;
    direction read_, write_;
    std::unordered_map<std::uint64_t, pending> replies_;
    std::uint64_t last_id_ = 0;
    bool connected_ = false;
    bool failed_ = false;
    bool closed_ = false;
    bool freeing_ = false;
};

} // namespace incsync::redis::detail

#endif
