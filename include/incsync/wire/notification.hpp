// Real-time notifications (PROTOCOL.md section 3), encoded once per change
// and shared by every connection. What differs per connection, the `seq`
// member, is a few bytes written ahead of the shared body in the same gather
// write: `{"seq":17,` + `"type":"entity_updated",...}`.
#ifndef INCSYNC_WIRE_NOTIFICATION_HPP
#define INCSYNC_WIRE_NOTIFICATION_HPP

#include <incsync/change.hpp>
#include <incsync/detail/json_writer.hpp>
#include <incsync/wire/pull_response.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace incsync::wire {

/// An encoded notification: everything after the opening `{"seq":K,`.
/// Immutable once built; share it with `std::shared_ptr<const notification>`.
struct notification {
    std::string body;       ///< `"type":"entity_updated",...}`
    std::optional<std::int64_t> store_id; ///< topic: nullopt for global changes
    version_t version = 0;
    timestamp committed_at; ///< the change's commit time; zero for catch_up (write-to-notify latency)
    std::string_view event = "entity_updated"; ///< the `type`, static storage (SSE `event:` line)
};

/// Encodes the notification for one committed change, once.
inline std::shared_ptr<const notification> make_notification(const change& c)
{
    auto n = std::make_shared<notification>();
    n->store_id = c.store_id;
    n->version = c.version;
    n->committed_at = c.committed_at;
    auto& out = n->body;
    out.reserve(160);
    out.append(R"("type":"entity_updated","entity_type":)");
    incsync::detail::append_json_string(out, c.entity_type);
    out.append(R"(,"entity_id":)");
    incsync::detail::append_json_value(out, c.id);
    out.append(R"(,"change_type":")");
    out.append(to_string(c.type));
    out.append(R"(","timestamp":)");
    incsync::detail::append_json_value(out, c.committed_at);
    out.append(R"(,"version":)");
    incsync::detail::append_json_value(out, c.version);
    out.push_back('}');
    return n;
}

/// The per-connection prefix `{"seq":K,` in a small fixed buffer (no allocation).
class seq_prefix {
public:
    explicit seq_prefix(std::uint64_t seq) noexcept
    {
        constexpr std::string_view head = R"({"seq":)";
        std::copy(head.begin(), head.end(), buf_.begin());
        char* p = std::to_chars(buf_.data() + head.size(), buf_.data() + buf_.size() - 1, seq).ptr;
        *p++ = ',';
        size_ = static_cast<std::size_t>(p - buf_.data());
    }
    std::string_view view() const noexcept { return {buf_.data(), size_}; }

private:
    std::array<char, 32> buf_{};
    std::size_t size_ = 0;
};

} // namespace incsync::wire

#endif
