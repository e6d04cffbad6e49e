// A connection that receives notifications: a WebSocket (RFC 6455) after its
// upgrade, or a Server-Sent Events stream.
//
// Why our own WebSocket framing rather than beast::websocket::stream: Beast
// writes one message per call, and we want every frame queued for a
// connection to leave in one gather write (a burst costs one syscall, not
// one per notification), with the shared notification body written straight
// from the hub's buffer and no per-connection write buffer. Server frames are
// unmasked and the client only sends small control messages, so framing is a
// few dozen lines (detail/websocket_frame.hpp); Beast still parses the HTTP.
//
// Everything runs on the socket's strand. The hub calls `deliver` from the
// publishing thread: it only queues in the outbox and, once per idle period,
// posts a wake-up.
#ifndef INCSYNC_BEAST_DETAIL_PUSH_SESSION_HPP
#define INCSYNC_BEAST_DETAIL_PUSH_SESSION_HPP

#include <incsync/beast/detail/client_message.hpp>
#include <incsync/beast/detail/permessage_deflate.hpp>
#include <incsync/beast/detail/shared_state.hpp>
#include <incsync/beast/detail/websocket_frame.hpp>
#include <incsync/hub.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace incsync::beast::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

enum class stream_kind { websocket, event_stream };

class push_session final : public session_base,
                           public subscriber,
                           public wakeable,
                           public std::enable_shared_from_this<push_session> {
public:
    struct setup {
        stream_kind kind = stream_kind::websocket;
        std::optional<std::int64_t> topic; ///< the store; nullopt: every store (admin)
        std::string label;                 ///< names the connection in the log
        std::string preamble;              ///< the HTTP response head, written first
        std::string leftover;              ///< bytes the client sent after its request
        connection_permit permit;          ///< the connection's place in its address's count
        std::optional<deflate_agreement> deflate; ///< permessage-deflate, when negotiated
    };

    push_session(tcp::socket socket, std::shared_ptr<shared_state> state, setup s)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          state_(std::move(state)),
          kind_(s.kind),
          topic_(s.topic),
          label_(std::move(s.label)),
          preamble_(std::move(s.preamble)),
          rd_(std::move(s.leftover)),
          permit_(std::move(s.permit)),
          outbox_(state_->options().outbox_capacity)
    {
        deflate_ = std::move(s.deflate);
        boost::system::error_code ec;
        socket_.non_blocking(true, ec); // writes are tried at once (see write_more)
        if (const auto bytes = state_->options().stream_send_buffer)
            socket_.set_option(asio::socket_base::send_buffer_size(static_cast<int>(bytes)), ec);
    }

    ~push_session() override
    {
        // First: the hub may be inside `deliver` on another thread.
        subscription_.reset();
        if (!closed_) forget();
    }

    /// Subscribes, then writes the preamble: nothing committed after the
    /// client's handshake completes can be missed.
    void start()
    {
        if (!state_->add(shared_from_this())) {
            boost::system::error_code ec;
            socket_.close(ec);
            closed_ = true;
            return;
        }
        registered_ = true;
        (websocket() ? state_->counters().websocket_connections : state_->counters().event_streams)++;
        store_streams_ = &state_->streams_of(topic_);
        (websocket() ? store_streams_->websocket : store_streams_->sse)++;
        subscription_ = state_->hub().subscribe(*this, topic_);
        const auto now = clock::now();
        last_read_ = last_heartbeat_ = now;
        state_->log(label_ + ": open");
        write_more();
        if (websocket()) process_input();
        do_read();
        arm_timer(tick());
    }

    void shutdown() override
    {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            if (self->closed_) return;
            if (self->websocket()) self->queue_close(close_code::going_away, "server shutting down");
            else self->close_now("server shutting down");
        });
    }

    void deliver(const notification_ptr& n) override
    {
        bool replaced = false;
        std::uint64_t coalesced = 0;
        const bool wake = outbox_.push(n, &replaced, &coalesced);
        // Counted here, not when written: a consumer stalled for good never
        // gets its catch_up, yet its backlog was coalesced.
        if (replaced) state_->counters().catch_ups.fetch_add(1, std::memory_order_relaxed);
        if (coalesced) state_->counters().notifications_coalesced.fetch_add(coalesced, std::memory_order_relaxed);
        if (!wake) return;
        auto self = weak_from_this().lock();
        if (!self) return;
        if (state_->single_threaded()) state_->wakes().add(std::move(self));
        else asio::post(socket_.get_executor(), [self = std::move(self)] { self->write_more(); });
    }

    void wake() override { write_more(); }

private:
    using clock = std::chrono::steady_clock;

    // A frame's own bytes: WebSocket header or SSE `event:`/`data:` lines, then
    // the `{"seq":K,` prefix. The shared body follows in the gather write.
    struct head {
        std::array<char, 96> bytes;
        std::size_t size = 0;
    };

    static constexpr std::size_t read_chunk = 512;
    static constexpr std::size_t max_pending_control = 4096;
    static constexpr std::size_t idle_capacity = 16;
    static constexpr std::string_view sse_tail = "\n\n";
    static constexpr auto close_grace = std::chrono::seconds(2);

    bool websocket() const noexcept { return kind_ == stream_kind::websocket; }

    clock::duration tick() const
    {
        const auto& o = state_->options();
        return std::max<clock::duration>(std::min<clock::duration>(o.heartbeat_interval, o.stall_timeout / 2),
                                         std::chrono::milliseconds(1));
    }

    // ---- writing -------------------------------------------------------

    // Writes everything queued: control frames, then notifications, in one
    // gather write. A consumer keeping up takes it at once (a non-blocking
    // send, no asynchronous operation); the rest waits for the socket.
    void write_more()
    {
        while (!writing_ && !closed_) {
            buffers_.clear();
            if (!preamble_.empty()) buffers_.emplace_back(asio::buffer(preamble_));
            if (!control_.empty()) {
                control_sending_.swap(control_);
                control_.clear();
                buffers_.emplace_back(asio::buffer(control_sending_));
                close_in_flight_ = close_queued_;
            }
            if (!close_queued_ && outbox_.take(batch_)) append_frames();
            if (buffers_.empty()) return release_idle_memory();
            writing_ = true;
            write_started_ = clock::now();
            if (!write_now()) return;
            if (!after_write({})) return;
        }
    }

    // True when all of buffers_ went out; false when it failed or must wait.
    bool write_now()
    {
        std::size_t first = 0;
        while (first < buffers_.size()) {
            boost::system::error_code ec;
            const auto span = std::span(buffers_).subspan(first);
            auto n = socket_.write_some(span, ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) break;
            if (ec) {
                on_write(ec);
                return false;
            }
            while (first < buffers_.size() && n >= buffers_[first].size()) n -= buffers_[first++].size();
            if (first < buffers_.size()) buffers_[first] += n;
        }
        if (first == buffers_.size()) return true;
        buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<std::ptrdiff_t>(first));
        asio::async_write(socket_, buffers_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            self->on_write(ec);
        });
        return false;
    }

    void append_frames()
    {
        heads_.resize(batch_.size());
        if (deflate_ && deflated_.size() < batch_.size()) deflated_.resize(batch_.size());
        for (std::size_t i = 0; i < batch_.size(); ++i) {
            const auto& f = batch_[i];
            auto& h = heads_[i];
            const auto prefix = f.prefix.view();
            const auto& body = f.body->body;
            if (deflate_ && prefix.size() + body.size() >= state_->options().permessage_deflate.min_bytes
                && compress(prefix, body, deflated_[i])) {
                h.size = write_frame_header(h.bytes.data(), opcode::text, deflated_[i].size(), true, true);
                buffers_.emplace_back(h.bytes.data(), h.size);
                buffers_.emplace_back(deflated_[i].data(), deflated_[i].size());
                continue;
            }
            if (websocket()) {
                h.size = write_frame_header(h.bytes.data(), opcode::text, prefix.size() + body.size());
            } else {
                h.size = 0;
                append(h, "event: ");
                append(h, f.body->event);
                append(h, "\ndata: ");
            }
            append(h, prefix);
            buffers_.emplace_back(h.bytes.data(), h.size);
            buffers_.emplace_back(body.data(), body.size());
            if (!websocket()) buffers_.emplace_back(sse_tail.data(), sse_tail.size());
        }
        auto& c = state_->counters();
        c.notifications_sent.fetch_add(batch_.size(), std::memory_order_relaxed);
    }

    // The batch just went out: how long after their commits.
    void observe_latency() noexcept
    {
        if (batch_.empty()) return;
        const auto now = incsync::timestamp::now().micros;
        for (const auto& f : batch_)
            if (const auto at = f.body->committed_at.micros; at > 0)
                state_->notify_latency().observe(now > at ? static_cast<std::uint64_t>(now - at) : 0);
    }

    bool compress(std::string_view prefix, std::string_view body, std::string& out)
    {
        const auto& o = state_->options().permessage_deflate;
        return message_deflater::thread_local_for(deflate_->server_window_bits, o.level).compress(prefix, body, out);
    }

    static void append(head& h, std::string_view s) noexcept
    {
        const auto n = std::min(s.size(), h.bytes.size() - h.size);
        std::copy_n(s.data(), n, h.bytes.data() + h.size);
        h.size += n;
    }

    void on_write(boost::system::error_code ec)
    {
        if (after_write(ec)) write_more();
    }

    // After a write: true when writing may go on.
    bool after_write(boost::system::error_code ec)
    {
        writing_ = false;
        if (!ec) observe_latency();
        batch_.clear(); // drops this connection's references to shared bodies
        control_sending_.clear();
        if (!preamble_.empty()) std::string().swap(preamble_);
        if (ec) {
            close_now("write failed: " + ec.message());
            return false;
        }
        if (close_in_flight_) {
            close_sent_ = true;
            if (peer_closed_) close_now("closed");
            else arm_timer(close_grace); // the peer answers with its own close, or the timer ends it
            return false;
        }
        return true;
    }

    void release_idle_memory()
    {
        if (batch_.capacity() > idle_capacity) {
            std::vector<outbox::frame>().swap(batch_);
            std::vector<head>().swap(heads_);
            std::vector<asio::const_buffer>().swap(buffers_);
            std::vector<std::string>().swap(deflated_);
        }
        if (control_sending_.capacity() > max_pending_control) std::string().swap(control_sending_);
    }

    // WebSocket control frames and replies, and SSE comments, go out ahead of
    // queued notifications in the next write.
    void queue_raw(opcode op, std::string_view payload)
    {
        if (close_queued_ || closed_ || control_.size() > max_pending_control) return;
        char h[max_frame_header];
        control_.append(h, write_frame_header(h, op, payload.size()));
        control_.append(payload);
        write_more();
    }

    void queue_close(std::uint16_t code, std::string_view reason)
    {
        if (close_queued_ || closed_) return;
        char payload[125];
        const auto n = write_close_payload(payload, code, reason);
        char h[max_frame_header];
        control_.append(h, write_frame_header(h, opcode::close, n));
        control_.append(payload, n);
        close_queued_ = true;
        arm_timer(close_grace);
        write_more();
    }

    void queue_heartbeat()
    {
        if (websocket()) return queue_raw(opcode::ping, {});
        if (close_queued_ || closed_ || control_.size() > max_pending_control) return;
        control_.append(": heartbeat\n\n");
        write_more();
    }

    // ---- reading -------------------------------------------------------

    void do_read()
    {
        if (closed_) return;
        const auto old = rd_.size();
        rd_.resize(old + read_chunk);
        socket_.async_read_some(asio::buffer(rd_.data() + old, read_chunk),
                                [self = shared_from_this(), old](boost::system::error_code ec, std::size_t n) {
                                    self->on_read(ec, old, n);
                                });
    }

    void on_read(boost::system::error_code ec, std::size_t old, std::size_t n)
    {
        rd_.resize(old + n);
        if (closed_) return;
        if (ec) return close_now(ec == asio::error::eof ? "closed by peer" : "read failed: " + ec.message());
        last_read_ = clock::now();
        if (!websocket()) rd_.clear(); // an SSE client has nothing to say; reading only notices it leave
        else process_input();
        do_read();
    }

    void process_input()
    {
        std::size_t pos = 0;
        while (!closed_ && !peer_closed_ && pos < rd_.size()) {
            const auto f = parse_frame(rd_.data() + pos, rd_.size() - pos, state_->options().max_client_message,
                                       deflate_.has_value());
            if (f.what == parsed_frame::status::need_more) break;
            if (f.what == parsed_frame::status::error) {
                rd_.clear();
                return fail(f.error_code, "bad frame");
            }
            const std::string_view payload(rd_.data() + pos + f.header_size, f.payload_size);
            pos += f.header_size + f.payload_size;
            on_frame(f, payload);
        }
        rd_.erase(0, pos);
        if (rd_.empty() && rd_.capacity() > 2 * read_chunk) std::string().swap(rd_);
    }

    void on_frame(const parsed_frame& f, std::string_view payload)
    {
        switch (f.op) {
        case opcode::ping: return queue_raw(opcode::pong, payload);
        case opcode::pong: return;
        case opcode::close: {
            peer_closed_ = true;
            if (close_sent_) return close_now("closed");
            const auto r = parse_close_payload(payload);
            if (!r.valid) return queue_close(close_code::protocol_error, "bad close frame");
            return queue_close(r.code == 1005 ? close_code::normal : r.code, {});
        }
        case opcode::continuation:
            if (!in_message_) return fail(close_code::protocol_error, "continuation without a message");
            if (message_.size() + payload.size() > state_->options().max_client_message)
                return fail(close_code::message_too_big, "message too big");
            message_.append(payload);
            if (f.fin) {
                in_message_ = false;
                finish_message(message_op_, message_compressed_, message_);
                std::string().swap(message_);
            }
            return;
        default:
            if (in_message_) return fail(close_code::protocol_error, "new message inside a fragmented one");
            if (f.fin) return finish_message(f.op, f.compressed, payload);
            in_message_ = true;
            message_op_ = f.op;
            message_compressed_ = f.compressed;
            message_.assign(payload);
        }
    }

    // A whole message's payload: inflated first when it came compressed.
    void finish_message(opcode op, bool compressed, std::string_view payload)
    {
        if (!compressed) return on_message(op, payload);
        if (!inflater_) inflater_ = std::make_unique<message_inflater>(); // only for clients that compress
        std::string text;
        const auto r = inflater_->inflate_message(payload, text, state_->options().max_client_message,
                                                  deflate_->client_no_context_takeover);
        if (r == message_inflater::outcome::too_big) return fail(close_code::message_too_big, "message too big");
        if (r != message_inflater::outcome::ok) return fail(close_code::invalid_payload, "bad compressed message");
        on_message(op, text);
    }

    // A complete client message: answered as client_message.hpp decides.
    void on_message(opcode op, std::string_view text)
    {
        auto answer = answer_client_message(op, text, state_->now());
        switch (answer.what) {
        case client_message_answer::action::none: return;
        case client_message_answer::action::reply: return queue_raw(opcode::text, answer.text);
        case client_message_answer::action::close: return fail(answer.close_code, answer.text);
        }
    }

    void fail(std::uint16_t code, std::string_view why)
    {
        state_->log(label_ + ": protocol error (" + std::to_string(code) + "): " + std::string(why));
        queue_close(code, why);
    }

    // ---- time ----------------------------------------------------------

    void arm_timer(clock::duration after)
    {
        if (closed_) return;
        timer_.expires_after(after);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->closed_) self->on_tick();
        });
    }

    void on_tick()
    {
        const auto now = clock::now();
        const auto& o = state_->options();
        if (close_queued_) return close_now("close handshake timed out");
        if (writing_ && now - write_started_ >= o.stall_timeout) {
            state_->counters().closed_stalled++;
            return close_now("stalled: not reading its notifications");
        }
        if (websocket() && now - last_read_ >= 2 * o.heartbeat_interval) {
            state_->counters().closed_dead++;
            return close_now("dead: no answer to pings");
        }
        if (now - last_heartbeat_ >= o.heartbeat_interval) {
            last_heartbeat_ = now;
            queue_heartbeat();
        }
        arm_timer(tick());
    }

    void close_now(const std::string& why)
    {
        if (closed_) return;
        closed_ = true;
        subscription_.reset();
        boost::system::error_code ec;
        timer_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        forget();
        state_->log(label_ + ": " + why);
    }

    void forget() noexcept
    {
        if (!registered_) return;
        registered_ = false;
        (websocket() ? state_->counters().websocket_connections : state_->counters().event_streams)--;
        (websocket() ? store_streams_->websocket : store_streams_->sse)--;
        state_->remove(this);
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    std::shared_ptr<shared_state> state_;
    stream_kind kind_;
    std::optional<std::int64_t> topic_;
    shared_state::store_streams* store_streams_ = nullptr; // this store's gauges (set once registered)
    std::string label_;
    std::string preamble_;
    std::string rd_;      // received, not yet parsed
    connection_permit permit_;
    std::string message_; // a fragmented message being put together
    opcode message_op_ = opcode::text;
    bool in_message_ = false;
    bool message_compressed_ = false;
    std::optional<deflate_agreement> deflate_;
    std::unique_ptr<message_inflater> inflater_;
    std::vector<std::string> deflated_; // compressed payloads of the batch being written

    outbox outbox_;
    notification_hub::subscription subscription_;
    std::vector<outbox::frame> batch_; // in flight
    std::vector<head> heads_;
    std::vector<asio::const_buffer> buffers_;
    std::string control_;         // queued control frames, replies, SSE comments
    std::string control_sending_; // in flight

    clock::time_point last_read_{};
    clock::time_point last_heartbeat_{};
    clock::time_point write_started_{};
    bool writing_ = false;
    bool close_queued_ = false;
    bool close_in_flight_ = false;
    bool close_sent_ = false;
    bool peer_closed_ = false;
    bool closed_ = false;
    bool registered_ = false;
};

} // namespace incsync::beast::detail

#endif
