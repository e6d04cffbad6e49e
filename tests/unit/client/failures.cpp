// Every failure the client can meet, driven through its public API: each
// becomes the right error kind in the status, nothing throws, the other
// types go on, and the type recovers on its own once the fault is gone.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "loopback.hpp"

#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>

using namespace incsync;
using namespace loopback;
using client::error_kind;

namespace {

/// A fault on the product pulls only, switchable from the test.
struct product_fault {
    std::mutex mutex;
    std::optional<client::http_result> answer;
    bool on = false;

    std::optional<client::http_result> operator()(std::string_view target)
    {
        std::lock_guard lock(mutex);
        if (!on || !target.starts_with("/api/v1/sync/products")) return std::nullopt;
        return answer;
    }
    void set(std::optional<client::http_result> a)
    {
        std::lock_guard lock(mutex);
        answer = std::move(a);
        on = true;
    }
    void clear()
    {
        std::lock_guard lock(mutex);
        on = false;
    }
};

client::http_result reply(unsigned status, std::string body, std::chrono::seconds retry_after = {})
{
    client::http_result r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = retry_after;
    return r;
}

struct fault_case {
    const char* name;
    std::optional<client::http_result> answer; // nullopt: no answer at all
    error_kind expected;
};

std::vector<fault_case> fault_cases()
{
    return {
        {"500", reply(500, R"({"error":{"code":"internal","message":"x"}})"), error_kind::server_error},
        {"429", reply(429, R"({"error":{"code":"rate_limited","message":"x"}})", std::chrono::seconds(0)),
         error_kind::rate_limited},
        {"garbled", reply(200, "{\"entity_type\":\"product\",\"changes\":[{]"), error_kind::bad_data},
        {"wrong shape", reply(200, R"({"entity_type":"product","changes":"no"})"), error_kind::bad_data},
        {"wrong record", reply(200, R"({"entity_type":"product","changes":[{"data":{"id":"seven"}}],"deleted":[],)"
                                    R"("next_since":"x","has_more":false,"version":3})"),
         error_kind::bad_data},
        {"not a pull", reply(200, "[]"), error_kind::bad_data},
        {"401", reply(401, R"({"error":{"code":"unauthorized","message":"x"}})"), error_kind::auth_expired},
        {"403", reply(403, R"({"error":{"code":"forbidden","message":"x"}})"), error_kind::forbidden},
        {"no answer", client::no_answer("connection refused"), error_kind::offline},
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(client_failures)

BOOST_AUTO_TEST_CASE(each_failure_becomes_its_error_kind_and_the_type_recovers)
{
    for (auto& fc : fault_cases()) {
        BOOST_TEST_CONTEXT(fc.name)
        {
            server_side server;
            const auto id = server.create(product_named("P")).record->value.id;
            pos::category cat;
            cat.name = "C";
            server.create(cat);
            auto options = client_side::options(1);
            options.realtime = false;
            options.rate_limited_persistent = 1; // show the first 429 (the default waits for 3)
            client_side c(server, options);
            auto fault = std::make_shared<product_fault>();
            c.transport.intercept([fault](std::string_view t) { return (*fault)(t); });
            fault->set(fc.answer);

            auto report = c.client->perform_full_incremental_sync(boost::asio::use_future).get();
            for (const auto& t : report.types)
                BOOST_TEST((t.error == (t.entity_type == "product" ? fc.expected : error_kind::none)), t.entity_type);
            const auto st = c.client->status();
            BOOST_REQUIRE(st.type("product")->error.has_value());
            BOOST_TEST(st.type("product")->error->kind == fc.expected);
            BOOST_TEST(st.type("product")->pending);
            BOOST_TEST(st.last_error.has_value());
            BOOST_TEST(c.replica.size<pos::category>() == 1u); // the others went on
            BOOST_TEST(st.auth_failure == (fc.expected == error_kind::auth_expired));

            fault->clear();
            if (fc.expected == error_kind::auth_expired || fc.expected == error_kind::forbidden) {
                // Not retried by itself (the token or permission must change): the operator's Sync Now.
                c.client->sync_now();
            }
            BOOST_TEST(wait_until([&] {
                auto s = c.client->status();
                return !s.type("product")->error && s.pending == 0 && !s.auth_failure;
            }));
            BOOST_TEST(c.replica.get<pos::product>(id).value().has_value());
            BOOST_TEST(!c.client->status().last_error.has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_cursor_rejected_even_after_a_reload_is_cursor_expired)
{
    server_side server;
    server.create(product_named("P"));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    auto first = c.client->perform_incremental_sync("product", boost::asio::use_future).get();
    BOOST_TEST_REQUIRE(first.ok());
    auto fault = std::make_shared<product_fault>();
    fault->set(reply(410, R"({"error":{"code":"resync_required","message":"x"}})"));
    c.transport.intercept([fault](std::string_view t) { return (*fault)(t); });
    auto o = c.client->perform_incremental_sync("product", boost::asio::use_future).get();
    BOOST_TEST((o.error == error_kind::cursor_expired));
    BOOST_TEST(c.replica.size<pos::product>() == 1u); // what it had stays readable
}

BOOST_AUTO_TEST_CASE(calls_never_throw_or_block_even_when_everything_fails)
{
    server_side server;
    auto options = client_side::options(1);
    options.token = "nobody";
    client_side c(server, options);
    c.transport.set_online(false);
    const auto start = std::chrono::steady_clock::now();
    c.client->start();
    c.client->sync_now();
    c.client->network_up();
    c.client->perform_full_incremental_sync();
    c.client->perform_incremental_sync("product");
    c.client->perform_incremental_sync("no such type");
    c.client->check_for_updates();
    c.client->set_token("still nobody");
    (void)c.client->status();
    const bool returned_at_once = std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100);
    BOOST_TEST(returned_at_once);
    BOOST_TEST(wait_until([&] { return !c.client->status().online && c.client->status().has_error(); }));
    c.transport.set_online(true);
    c.client->network_up();
    BOOST_TEST(wait_until([&] { return c.client->status().auth_failure; }));
}

BOOST_AUTO_TEST_CASE(rate_limiting_shows_in_status_only_when_it_persists)
{
    server_side server;
    server.create(product_named("P"));
    auto options = client_side::options(1);
    options.realtime = false;
    client_side c(server, options);
    auto fault = std::make_shared<product_fault>();
    fault->set(reply(429, R"({"error":{"code":"rate_limited","message":"x"}})"));
    c.transport.intercept([fault](std::string_view t) { return (*fault)(t); });
    auto first = c.client->perform_incremental_sync("product", boost::asio::use_future).get();
    BOOST_TEST((first.error == error_kind::rate_limited));
    auto st = c.client->status();
    BOOST_TEST(!st.type("product")->error.has_value()); // once is normal pacing
    BOOST_TEST(st.type("product")->pending);
    // The retries (after Retry-After, here 0) keep meeting 429: now it shows.
    BOOST_TEST(wait_until([&] {
        auto s = c.client->status();
        return s.type("product")->error && s.type("product")->error->kind == error_kind::rate_limited;
    }));
    fault->clear();
    BOOST_TEST(wait_until([&] { return !c.client->status().has_error() && c.replica.size<pos::product>() == 1; }));
}

BOOST_AUTO_TEST_SUITE_END()
