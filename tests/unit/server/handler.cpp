#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/server/handler.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace unit_server_handler_test {

using namespace incsync;
namespace http = boost::beast::http;
namespace json = boost::json;
using store_t = memory::server_store<pos::entities>;

struct fixture {
    store_t store;
    std::vector<change> notified;
    server::handler<store_t> api{store, options()};

    server::handler_options options()
    {
        server::handler_options o;
        o.tokens.add_admin("admin-secret");
        o.tokens.add_register("reg-1", 1);
        o.tokens.add_register("reg-2", 2);
        o.max_body_bytes = 4096;
        o.on_commit = [this](const change& c) { notified.push_back(c); };
        return o;
    }

    server::response call(http::verb method, std::string target, std::string body = {},
                          std::string token = "admin-secret")
    {
        server::request req{method, target, 11};
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
        req.body() = std::move(body);
        req.prepare_payload();
        return api.handle(req);
    }

    json::value get_json(std::string target, std::string token = "admin-secret")
    {
        auto res = call(http::verb::get, std::move(target), {}, std::move(token));
        BOOST_TEST_REQUIRE(res.result_int() == 200u, res.body());
        return json::parse(res.body());
    }
};

std::string code_of(const server::response& res)
{
    return std::string(json::parse(res.body()).at("error").at("code").as_string());
}

BOOST_FIXTURE_TEST_SUITE(server_handler, fixture)

BOOST_AUTO_TEST_CASE(a_token_revoked_at_run_time_is_refused_from_its_next_request)
{
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/products", {}, "reg-1").result_int() == 200u);
    BOOST_TEST(api.tokens().revoke("reg-1"));
    BOOST_TEST(!api.tokens().revoke("reg-1"));
    auto refused = call(http::verb::get, "/api/v1/sync/products", {}, "reg-1");
    BOOST_TEST(refused.result_int() == 401u);
    BOOST_TEST(code_of(refused) == "unauthorized");
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/products", {}, "reg-2").result_int() == 200u);
    api.tokens().add_register("reg-1b", 1);
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/tables?store_id=1", {}, "reg-1b").result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(admin_writes_are_stored_logged_and_notified)
{
    auto created = call(http::verb::post, "/api/v1/products", R"({"name":"Espresso","price_cents":250,"id":99})");
    BOOST_TEST(created.result_int() == 201u);
    const auto record = json::parse(created.body()).as_object();
    BOOST_TEST(record.at("id").as_int64() == 1); // the server assigns ids
    BOOST_TEST(record.at("price_cents").as_int64() == 250);
    BOOST_REQUIRE_EQUAL(notified.size(), 1u);

    auto patched = call(http::verb::patch, "/api/v1/products/1", R"({"price_cents":270})");
    BOOST_TEST(patched.result_int() == 200u);
    BOOST_TEST(json::parse(patched.body()).at("name").as_string() == "Espresso");
    BOOST_TEST(notified.size() == 2u);
    (void)call(http::verb::patch, "/api/v1/products/1", R"({"price_cents":270})"); // no change: no notification
    BOOST_TEST(notified.size() == 2u);

    auto replaced = call(http::verb::put, "/api/v1/products/1", R"({"name":"Ristretto"})");
    BOOST_TEST(json::parse(replaced.body()).at("price_cents").as_int64() == 0); // PUT replaces
    BOOST_TEST(call(http::verb::get, "/api/v1/products/1").result_int() == 200u);
    BOOST_TEST(get_json("/api/v1/products").as_array().size() == 1u);
    BOOST_TEST(call(http::verb::delete_, "/api/v1/products/1").result_int() == 204u);
    BOOST_TEST(notified.back().type == change_type::remove);
    BOOST_TEST(call(http::verb::get, "/api/v1/products/1").result_int() == 404u);
}

BOOST_AUTO_TEST_CASE(pull_by_path_and_by_incremental_share_one_code_path)
{
    (void)call(http::verb::post, "/api/v1/categories", R"({"name":"Drinks"})");
    const auto by_path = get_json("/api/v1/sync/categories?limit=10");
    const auto by_param = get_json("/api/v1/sync/incremental?entity_type=category&limit=10");
    const auto by_param_path = get_json("/api/v1/sync/incremental?entity_type=categories&limit=10");
    BOOST_TEST(by_path.at("changes") == by_param.at("changes"));
    BOOST_TEST(by_param.at("changes") == by_param_path.at("changes"));
    BOOST_TEST(by_path.at("entity_type").as_string() == "category");
    const auto since = std::string(by_path.at("next_since").as_string());
    BOOST_TEST(get_json("/api/v1/sync/categories?since=" + since).at("changes").as_array().empty());
    BOOST_TEST(get_json("/api/v1/sync/check?store_id=1").at("changed").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(tokens_and_store_walls)
{
    (void)call(http::verb::post, "/api/v1/tables", R"({"name":"T1","store_id":1})");
    (void)call(http::verb::post, "/api/v1/tables", R"({"name":"T2","store_id":2})");
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/products", {}, "").result_int() == 401u);
    BOOST_TEST(code_of(call(http::verb::get, "/api/v1/sync/products", {}, "wrong")) == "unauthorized");
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/products", {}, "reg-1").result_int() == 200u);
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/tables?store_id=2", {}, "reg-1").result_int() == 403u);
    const auto own = get_json("/api/v1/sync/tables?store_id=1", "reg-1");
    BOOST_REQUIRE_EQUAL(own.at("changes").as_array().size(), 1u);
    BOOST_TEST(own.at("changes").as_array()[0].at("data").at("store_id").as_int64() == 1);
    BOOST_TEST(call(http::verb::get, "/api/v1/sync/tables", {}, "reg-1").result_int() == 400u); // store_id required
    // Registers may not write or use the console's endpoints.
    BOOST_TEST(call(http::verb::post, "/api/v1/products", R"({"name":"x"})", "reg-1").result_int() == 403u);
    BOOST_TEST(call(http::verb::get, "/api/v1/tables", {}, "reg-2").result_int() == 403u);
    BOOST_TEST(notified.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bad_input_gets_a_json_error_and_changes_nothing)
{
    (void)call(http::verb::post, "/api/v1/products", R"({"name":"Espresso"})");
    const auto before = get_json("/api/v1/products");
    const auto version = *store.high_water();
    struct bad_case {
        http::verb method;
        std::string target, body;
        unsigned status;
    };
    const std::vector<bad_case> cases{
        {http::verb::get, "/api/v1/sync/products?since=garbage", "", 400},
        {http::verb::get, "/api/v1/sync/products?since=2025-13-40T00:00:00Z", "", 400},
        {http::verb::get, "/api/v1/sync/products?limit=0", "", 400},
        {http::verb::get, "/api/v1/sync/products?limit=99999999999999999999", "", 400},
        {http::verb::get, "/api/v1/sync/products?delta=maybe", "", 400},
        {http::verb::get, "/api/v1/sync/products?store_id=abc", "", 400},
        {http::verb::get, "/api/v1/sync/products?since=%00", "", 400},
        {http::verb::get, "/api/v1/sync/products?since=%zz", "", 400},
        {http::verb::get, "/api/v1/sync/incremental?entity_type=widgets", "", 400},
        {http::verb::get, "/api/v1/sync/incremental", "", 400},
        {http::verb::get, "/api/v1/sync/check?wait=61", "", 400},
        {http::verb::get, "/api/v1/sync/widgets", "", 404},
        {http::verb::get, "/nowhere", "", 404},
        {http::verb::post, "/api/v1/sync/products", "{}", 405},
        {http::verb::post, "/api/v1/products", R"({"name":)", 400},
        {http::verb::post, "/api/v1/products", "[1,2]", 400},
        {http::verb::post, "/api/v1/products", R"({"price_cents":5})", 400},               // name required
        {http::verb::post, "/api/v1/products", R"({"name":"x","colour":"red"})", 400},    // unknown member
        {http::verb::post, "/api/v1/products", R"({"name":"x","price_cents":2.5})", 400}, // not an integer
        {http::verb::post, "/api/v1/products", std::string(5000, ' '), 413},
        {http::verb::post, "/api/v1/products", std::string(2000, '[') , 400},
        {http::verb::patch, "/api/v1/products/1", R"({"price_cents":"free"})", 400},
        {http::verb::patch, "/api/v1/products/999", R"({"price_cents":1})", 404},
        {http::verb::patch, "/api/v1/products/abc", R"({"price_cents":1})", 404},
        {http::verb::delete_, "/api/v1/products/999", "", 404},
        {http::verb::post, "/api/v1/products/1", "{}", 405},
        {http::verb::delete_, "/api/v1/products", "", 405},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.method << ' ' << c.target << ' ' << c.body.substr(0, 40))
        {
            const auto res = call(c.method, c.target, c.body);
            BOOST_TEST(res.result_int() == c.status);
            BOOST_TEST(res[http::field::content_type] == "application/json");
            const auto body = json::parse(res.body());
            BOOST_TEST(body.at("error").at("message").is_string());
        }
    }
    BOOST_TEST(get_json("/api/v1/products") == before);
    BOOST_TEST(*store.high_water() == version);
    BOOST_TEST(notified.size() == 1u);
}

BOOST_AUTO_TEST_CASE(moving_a_record_to_another_store_is_a_conflict)
{
    (void)call(http::verb::post, "/api/v1/tables", R"({"name":"T1","store_id":1})");
    const auto res = call(http::verb::patch, "/api/v1/tables/1", R"({"store_id":2})");
    BOOST_TEST(res.result_int() == 409u);
    BOOST_TEST(code_of(res) == "conflict");
}

BOOST_AUTO_TEST_CASE(request_bytes_echoed_in_an_error_stay_valid_json)
{
    // fuzz_http_request (corpus/http_request/unknown_entity_type_bytes): an
    // entity_type decoding to invalid UTF-8 was echoed as it came, and the
    // error body was not JSON.
    const auto res = call(http::verb::get, "/api/v1/sync/incremental?entity_type=%C3%A9t%FF");
    BOOST_TEST(res.result_int() == 400u);
    boost::system::error_code ec;
    const auto body = json::parse(res.body(), ec);
    BOOST_TEST_REQUIRE(!ec, res.body());
    BOOST_TEST(body.at("error").at("message").as_string() == "unknown entity type: \xc3\xa9t\xef\xbf\xbd");
}

BOOST_AUTO_TEST_CASE(an_image_upload_past_the_largest_image_version_is_a_conflict_and_stores_nothing)
{
    // fuzz_http_request (corpus/http_request/pipelined_create_patch_delete):
    // image_version + 1 overflowed (UBSan: signed integer overflow).
    auto images = std::make_shared<server::memory_image_repository>();
    auto o = options();
    o.images = images;
    server::handler<store_t> with_images{store, std::move(o)};
    auto send = [&](http::verb method, std::string target, std::string body) {
        server::request req{method, target, 11};
        req.set(http::field::authorization, "Bearer admin-secret");
        req.body() = std::move(body);
        req.prepare_payload();
        return with_images.handle(req);
    };
    BOOST_TEST(send(http::verb::post, "/api/v1/products", R"({"name":"Mocha","image_version":9223372036854775807})")
                   .result_int() == 201u);
    const auto version = *store.high_water();
    const auto refused = send(http::verb::put, "/api/v1/products/1/image", "GIF89a mocha");
    BOOST_TEST(refused.result_int() == 409u);
    BOOST_TEST(code_of(refused) == "conflict");
    BOOST_TEST(images->size() == 0u);
    BOOST_TEST(*store.high_water() == version);
    // Below the largest, an upload bumps the version as ever.
    BOOST_TEST(send(http::verb::patch, "/api/v1/products/1", R"({"image_version":9223372036854775806})").result_int() == 200u);
    const auto stored = send(http::verb::put, "/api/v1/products/1/image", "GIF89a mocha");
    BOOST_TEST(stored.result_int() == 200u);
    BOOST_TEST(json::parse(stored.body()).at("image_version").as_int64() == 9223372036854775807);
    BOOST_TEST(images->size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_server_handler_test
