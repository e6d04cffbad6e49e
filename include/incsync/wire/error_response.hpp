// Errors on the wire (PROTOCOL.md section 6): the HTTP status and protocol
// code each `incsync::error` maps to, and the JSON error body.
#ifndef INCSYNC_WIRE_ERROR_RESPONSE_HPP
#define INCSYNC_WIRE_ERROR_RESPONSE_HPP

#include <incsync/detail/json_writer.hpp>
#include <incsync/error.hpp>

#include <string>
#include <string_view>

namespace incsync::wire {

/// The HTTP status for a library error.
constexpr unsigned http_status(error e) noexcept
{
    switch (e) {
    case error::not_found: return 404;
    case error::immutable_member: return 409;
    case error::resync_required: return 410;
    case error::storage_failure: return 500;
    default: return 400;
    }
}

/// The protocol's `error.code` for a library error.
constexpr std::string_view protocol_code(error e) noexcept
{
    switch (e) {
    case error::not_found: return "not_found";
    case error::immutable_member: return "conflict";
    case error::resync_required: return "resync_required";
    case error::storage_failure: return "internal_error";
    default: return "bad_request";
    }
}

/// Appends `{"error":{"code":"...","message":"..."}}`.
inline void append_error_json(std::string& out, std::string_view code, std::string_view message)
{
    out.append(R"({"error":{"code":)");
    incsync::detail::append_json_string(out, code);
    out.append(R"(,"message":)");
    incsync::detail::append_json_string(out, message);
    out.append("}}");
}

/// The error body for a library error. Storage failures never carry their
/// detail to the client (it may hold internals); the server logs it instead.
inline std::string error_json(const error_info& e)
{
    std::string out;
    const bool ours = e.code.category() == error_category();
    const auto value = static_cast<error>(e.code.value());
    if (!ours || value == error::storage_failure) {
        append_error_json(out, "internal_error", "internal server error");
    } else {
        append_error_json(out, protocol_code(value), e.message());
    }
    return out;
}

} // namespace incsync::wire

#endif
