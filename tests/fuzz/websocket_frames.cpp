// Fuzz target: what a WebSocket client sends after the upgrade, as the server
// reads it (beast/detail/websocket_frame.hpp, used by push_session.hpp), and
// the client's decoding of the real-time messages it reads back
// (wire/client_messages.hpp).
//
// The bytes are the client's stream. They go through parse_frame, the
// session's frame handling restated without its socket (fragments, control
// frames, close), and answer_client_message (beast/detail/client_message.hpp),
// the very function push_session answers complete messages with.
// Invariants:
// - parse_frame never reads past the bytes it is given (ASan) and answers
//   need_more for every proper prefix of a frame it accepts, without
//   touching the bytes; an error on a prefix is the error on the whole;
// - an accepted frame is well formed (mask bit, opcode, control frames
//   final and short, payload within max) and round-trips: its header
//   rewritten by write_frame_header, masked again with its key, parses to
//   the same frame, byte for byte the same when its length was minimal;
// - valid_utf8 agrees with a plain decoder; a valid close payload rewritten
//   by write_close_payload parses back to itself, and a long UTF-8 reason
//   is cut at a character boundary;
// - every reply (pong, error message) is a JSON object; the client's
//   decoders (decode_stream_message, decode_check_response, error_code_of)
//   read every text message without crashing; a notification built by
//   make_notification reads back as what it says;
// - the permessage-deflate inflater takes any bytes as a compressed message
//   without reading or writing out of bounds, never yields more than its
//   limit, and what it yields deflates and inflates back to itself.
#include "fuzz.hpp"

#include <incsync/beast/detail/client_message.hpp>
#include <incsync/beast/detail/permessage_deflate.hpp>
#include <incsync/beast/detail/websocket_frame.hpp>
#include <incsync/change.hpp>
#include <incsync/wire/client_messages.hpp>
#include <incsync/wire/notification.hpp>

#include <boost/json/parse.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz_websocket_frames {

using namespace incsync::beast::detail;
using status = parsed_frame::status;

// server_options::max_client_message's default.
constexpr std::size_t max_message = 4096;

/// A plain UTF-8 decoder to compare valid_utf8 with: code points, then the
/// rules (shortest form, no surrogates, at most U+10FFFF).
bool reference_utf8(std::string_view s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (std::size_t i = 0; i < s.size();) {
        const unsigned c = p[i];
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || s.size() - i < len) return false;
        std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/// The session's side of one connection, without the socket: what it would
/// send back, and whether it closed.
struct session_model {
    bool in_message = false;
    opcode message_op = opcode::text;
    std::string message;
    bool closed = false;
    std::vector<std::string> replies; // text frames sent back

    void fail(std::uint16_t code)
    {
        INCSYNC_FUZZ_CHECK(valid_close_code(code));
        closed = true;
    }

    void on_frame(const parsed_frame& f, std::string_view payload)
    {
        switch (f.op) {
        case opcode::ping:
        case opcode::pong: return;
        case opcode::close: {
            const auto r = parse_close_payload(payload);
            if (r.valid) check_close(r);
            closed = true;
            return;
        }
        case opcode::continuation:
            if (!in_message) return fail(close_code::protocol_error);
            if (message.size() + payload.size() > max_message) return fail(close_code::message_too_big);
            message.append(payload);
            if (f.fin) {
                in_message = false;
                on_message(message_op, message);
                message.clear();
            }
            return;
        default:
            if (in_message) return fail(close_code::protocol_error);
            if (f.fin) return on_message(f.op, payload);
            in_message = true;
            message_op = f.op;
            message.assign(payload);
        }
    }

    void on_message(opcode op, std::string_view text)
    {
        INCSYNC_FUZZ_CHECK(text.size() <= max_message);
        const bool utf8 = valid_utf8(text);
        INCSYNC_FUZZ_CHECK(utf8 == reference_utf8(text));
        if (op == opcode::text && utf8) {
            // A client reading it as a server's message: no crash.
            (void)incsync::wire::decode_stream_message(text);
            (void)incsync::wire::decode_check_response(text);
            (void)incsync::wire::error_code_of(text);
        }
        auto answer = answer_client_message(op, text, incsync::timestamp::now());
        using action = client_message_answer::action;
        if (op != opcode::text) INCSYNC_FUZZ_CHECK(answer.what == action::close);
        else if (!utf8) INCSYNC_FUZZ_CHECK(answer.what == action::close && answer.close_code == close_code::invalid_payload);
        switch (answer.what) {
        case action::none: return;
        case action::reply: replies.push_back(std::move(answer.text)); return;
        case action::close:
            INCSYNC_FUZZ_CHECK(answer.text.size() <= 123 && valid_utf8(answer.text));
            return fail(answer.close_code);
        }
    }

    static void check_close(const close_reason& r)
    {
        if (r.code == close_code::no_status) return; // an empty payload: nothing to rewrite
        char out[125];
        const auto n = write_close_payload(out, r.code, r.reason);
        const auto back = parse_close_payload(std::string_view(out, n));
        INCSYNC_FUZZ_CHECK(back.valid && back.code == r.code && back.reason == r.reason);
    }
};

/// Checks the frame at the start of `frame[0..size)` that parse_frame
/// accepted as `f` (its payload now unmasked in place), given the masked
/// bytes it had before.
void check_frame(const parsed_frame& f, const char* frame, std::string_view original)
{
    INCSYNC_FUZZ_CHECK(f.header_size == 6 || f.header_size == 8 || f.header_size == 14);
    INCSYNC_FUZZ_CHECK(f.payload_size <= max_message && f.header_size + f.payload_size <= original.size());
    const auto op = static_cast<unsigned>(f.op);
    INCSYNC_FUZZ_CHECK(op <= 2 || (op >= 8 && op <= 10));
    if (op >= 8) INCSYNC_FUZZ_CHECK(f.fin && f.payload_size <= 125);
    const auto total = f.header_size + f.payload_size;

    // Every proper prefix needs more, and parsing it changes nothing.
    std::string prefix(original.substr(0, total));
    for (std::size_t k = 0; k < total; k += (k < 16 ? 1 : 1 + total / 64)) {
        const auto r = parse_frame(prefix.data(), k, max_message);
        INCSYNC_FUZZ_CHECK(r.what == status::need_more);
    }
    INCSYNC_FUZZ_CHECK(prefix == original.substr(0, total));

    // Rewritten: the server's header with the mask bit, the key, the payload masked again.
    char header[max_frame_header];
    const auto h = write_frame_header(header, f.op, f.payload_size, f.fin);
    header[1] = static_cast<char>(header[1] | 0x80);
    std::string again(header, h);
    const auto key = original.substr(f.header_size - 4, 4);
    again.append(key);
    std::string masked(frame + f.header_size, f.payload_size);
    unmask(masked.data(), masked.size(), reinterpret_cast<const unsigned char*>(key.data()));
    INCSYNC_FUZZ_CHECK(masked == original.substr(f.header_size, f.payload_size));
    again.append(masked);
    const bool minimal = h + 4 == f.header_size;
    if (minimal) INCSYNC_FUZZ_CHECK(again == original.substr(0, total));
    const auto r = parse_frame(again.data(), again.size(), max_message);
    INCSYNC_FUZZ_CHECK(r.what == status::frame && r.op == f.op && r.fin == f.fin && r.payload_size == f.payload_size);
    INCSYNC_FUZZ_CHECK(std::string_view(again.data() + r.header_size, r.payload_size)
                       == std::string_view(frame + f.header_size, f.payload_size));
}

/// A notification encoded by the server reads back as what it says.
void check_notification(std::string_view bytes)
{
    std::uint64_t raw[3] = {};
    std::memcpy(raw, bytes.data(), std::min(bytes.size(), sizeof raw));
    incsync::change c;
    c.version = raw[0] | 1;
    c.entity_type = "product";
    c.id = static_cast<std::int64_t>(raw[1]);
    c.type = static_cast<incsync::change_type>(raw[2] % 3);
    c.committed_at = incsync::timestamp{1'766'485'800'123'456};
    const auto n = incsync::wire::make_notification(c);
    const auto seq = raw[2] >> 2;
    const auto text = std::string(incsync::wire::seq_prefix(seq).view()) + n->body;
    const auto m = incsync::wire::decode_stream_message(text);
    INCSYNC_FUZZ_CHECK(m.has_value());
    INCSYNC_FUZZ_CHECK(m->type == incsync::wire::stream_message::kind::entity_updated);
    INCSYNC_FUZZ_CHECK(m->entity_type == "product" && m->entity_id == c.id);
    if (c.version <= static_cast<std::uint64_t>(INT64_MAX)) INCSYNC_FUZZ_CHECK(m->version == c.version);
    if (seq <= static_cast<std::uint64_t>(INT64_MAX)) INCSYNC_FUZZ_CHECK(m->seq == seq);
}

// The bytes as a compressed client message (permessage-deflate).
void check_inflate(std::string_view bytes)
{
    for (bool reset : {true, false}) {
        message_inflater in;
        std::string text;
        const auto r = in.inflate_message(bytes, text, max_message, reset);
        if (r != message_inflater::outcome::ok) continue;
        INCSYNC_FUZZ_CHECK(text.size() <= max_message);
        std::string again, back;
        INCSYNC_FUZZ_CHECK(message_deflater::thread_local_for(15, 6).compress(text, {}, again));
        message_inflater fresh;
        INCSYNC_FUZZ_CHECK(fresh.inflate_message(again, back, max_message, true) == message_inflater::outcome::ok);
        INCSYNC_FUZZ_CHECK(back == text);
    }
}

} // namespace fuzz_websocket_frames

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fuzz_websocket_frames;
    const std::string_view original(reinterpret_cast<const char*>(data), size);
    // The session's read buffer, exactly as large as what arrived.
    std::vector<char> buf(original.begin(), original.end());

    // Close payloads and UTF-8, on the raw bytes.
    INCSYNC_FUZZ_CHECK(valid_utf8(original) == reference_utf8(original));
    const auto close = parse_close_payload(original);
    if (close.valid) session_model::check_close(close);
    if (valid_utf8(original)) {
        char out[125];
        const auto n = write_close_payload(out, close_code::normal, original);
        INCSYNC_FUZZ_CHECK(n <= 125 && valid_utf8(std::string_view(out + 2, n - 2)));
        INCSYNC_FUZZ_CHECK(original.starts_with(std::string_view(out + 2, n - 2)));
    }
    check_notification(original);
    check_inflate(original);

    session_model session;
    std::size_t pos = 0;
    while (!session.closed && pos < size) {
        const auto f = parse_frame(buf.data() + pos, size - pos, max_message);
        if (f.what == status::need_more) break;
        if (f.what == status::error) {
            INCSYNC_FUZZ_CHECK(f.error_code == close_code::protocol_error || f.error_code == close_code::message_too_big);
            // The bytes present decide: a longer stream gives the same error.
            std::string more(original.substr(pos));
            more.append(16, '\0');
            const auto g = parse_frame(more.data(), more.size(), max_message);
            INCSYNC_FUZZ_CHECK(g.what == status::error && g.error_code == f.error_code);
            session.fail(f.error_code);
            break;
        }
        check_frame(f, buf.data() + pos, original.substr(pos));
        session.on_frame(f, std::string_view(buf.data() + pos + f.header_size, f.payload_size));
        pos += f.header_size + f.payload_size;
    }
    for (const auto& reply : session.replies) {
        boost::system::error_code ec;
        const auto jv = boost::json::parse(reply, ec);
        INCSYNC_FUZZ_CHECK(!ec && jv.is_object());
    }
    return 0;
}
