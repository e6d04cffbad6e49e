// Tokens (PROTOCOL.md section 5): admin tokens may write; register tokens are
// bound to one store and may read only sync endpoints of that store and
// global data.
#ifndef INCSYNC_SERVER_AUTH_HPP
#define INCSYNC_SERVER_AUTH_HPP

#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace incsync::server {

enum class role { admin, cash_register };

/// Who a request acts as.
struct principal {
    incsync::server::role role = role::cash_register;
    std::optional<std::int64_t> store_id; ///< set for cash registers
};

struct token {
    std::string value;
    principal who;
};

/// The configured tokens. Lookup compares against every token in constant
/// time per byte, so response timing reveals nothing about a token's content.
/// Thread-safe: lookups run concurrently; tokens may be added or revoked
/// while the server runs (a revoked token is refused from its next request).
class token_table {
public:
    token_table() = default;
    explicit token_table(std::vector<token> tokens) : tokens_(std::move(tokens)) {}
    token_table(const token_table& o) : tokens_(o.copy()) {}
    token_table& operator=(const token_table& o)
    {
        if (this != &o) {
            auto copied = o.copy();
            std::unique_lock lock(mutex_);
            tokens_ = std::move(copied);
        }
        return *this;
    }

    void add_admin(std::string value) { add({std::move(value), {role::admin, std::nullopt}}); }
    void add_register(std::string value, std::int64_t store_id)
    {
        add({std::move(value), {role::cash_register, store_id}});
    }

    /// Removes `value`; false when it was not there.
    bool revoke(std::string_view value)
    {
        std::unique_lock lock(mutex_);
        return std::erase_if(tokens_, [&](const token& t) { return t.value == value; }) > 0;
    }

    std::optional<principal> find(std::string_view presented) const noexcept
    {
        std::shared_lock lock(mutex_);
        std::optional<principal> found;
        for (const auto& t : tokens_)
            if (equal_constant_time(t.value, presented) && !t.value.empty()) found = t.who;
        return found;
    }

    bool empty() const noexcept
    {
        std::shared_lock lock(mutex_);
        return tokens_.empty();
    }

private:
    static bool equal_constant_time(std::string_view expected, std::string_view presented) noexcept
    {
        // Length is not secret; content is. Touch every byte of `expected`.
        unsigned diff = expected.size() != presented.size();
        for (std::size_t i = 0; i < expected.size(); ++i)
            diff |= static_cast<unsigned char>(expected[i])
                  ^ static_cast<unsigned char>(i < presented.size() ? presented[i] : 0);
        return diff == 0;
    }

    void add(token t)
    {
        std::unique_lock lock(mutex_);
        tokens_.push_back(std::move(t));
    }

    std::vector<token> copy() const
    {
        std::shared_lock lock(mutex_);
        return tokens_;
    }

    mutable std::shared_mutex mutex_;
    std::vector<token> tokens_;
};

/// The token of an `Authorization: Bearer <token>` header value, if any.
inline std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept
{
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char a = authorization[i], b = scheme[i];
        if ((a | 0x20) != (b | 0x20)) return std::nullopt; // scheme is case-insensitive
    }
    return authorization.substr(scheme.size());
}

} // namespace incsync::server

#endif
