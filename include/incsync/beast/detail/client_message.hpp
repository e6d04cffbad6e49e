// What the server answers to one complete message a WebSocket client sent, as
// a pure function: push_session sends what it says, and the websocket_frames
// fuzz target checks it on arbitrary input without a socket.
#ifndef INCSYNC_BEAST_DETAIL_CLIENT_MESSAGE_HPP
#define INCSYNC_BEAST_DETAIL_CLIENT_MESSAGE_HPP

#include <incsync/beast/detail/websocket_frame.hpp>
#include <incsync/detail/json_writer.hpp>
#include <incsync/timestamp.hpp>

#include <boost/json/parse.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace incsync::beast::detail {

/// The server's answer to a client message: nothing, a text message, or a
/// close with `close_code` and `text` as the reason.
struct client_message_answer {
    enum class action { none, reply, close };
    action what = action::none;
    std::uint16_t close_code = 0;
    std::string text;
};

/// `{"type":"ping"}` gets a pong with the server's time; other types are
/// ignored (a newer client may say more); text that is not a JSON object with
/// a string "type" gets an error message and the connection stays up. Binary
/// messages and text that is not UTF-8 close the connection (RFC 6455 7.4.1).
inline client_message_answer answer_client_message(opcode op, std::string_view text, timestamp now)
{
    using action = client_message_answer::action;
    if (op != opcode::text) return {action::close, close_code::unsupported_data, "binary messages are not supported"};
    if (!valid_utf8(text)) return {action::close, close_code::invalid_payload, "text is not UTF-8"};

    const auto error = [](std::string_view why) {
        std::string out = R"({"type":"error","error":{"code":"bad_request","message":)";
        incsync::detail::append_json_string(out, why);
        out.append("}}");
        return client_message_answer{action::reply, 0, std::move(out)};
    };
    boost::system::error_code ec;
    const auto jv = boost::json::parse(text, ec);
    const auto* obj = ec ? nullptr : jv.if_object();
    if (!obj) return error("messages are JSON objects");
    const auto* type = obj->if_contains("type");
    if (!type || !type->is_string()) return error("a message needs a string \"type\"");
    if (type->get_string() != "ping") return {};

    std::string pong = R"({"type":"pong","server_time":)";
    incsync::detail::append_json_value(pong, now);
    pong.push_back('}');
    return {action::reply, 0, std::move(pong)};
}

} // namespace incsync::beast::detail

#endif
