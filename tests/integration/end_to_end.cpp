// End to end with real processes: incsync-pos-server and three
// incsync-pos-client registers of two stores, an admin writer doing random
// writes over HTTP, and the server killed (SIGKILL) and restarted with fresh
// in-memory data mid-way. Every register must end with exactly its store's
// view, without being restarted itself.
#include "harness.hpp"
#include "process.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace integration_end_to_end_test {

#if defined(INCSYNC_POS_SERVER_EXE) && defined(INCSYNC_POS_CLIENT_EXE)

using namespace it;

const std::vector<std::string_view>& paths()
{
    static const std::vector<std::string_view> p = {
        "products", "categories", "materials", "unit-of-measures", "product-unit-of-measures",
        "material-unit-of-measures", "recipes", "recipe-materials", "settings", "tables",
        "inventory-config", "document-prefixes"};
    return p;
}

const std::vector<std::string_view>& types()
{
    static const std::vector<std::string_view> t = {
        "product", "category", "material", "unit_of_measure", "product_unit_of_measure",
        "material_unit_of_measure", "recipe", "recipe_material", "setting", "table",
        "inventory_config", "document_prefix"};
    return t;
}

json::array sorted_by_id(json::array a)
{
    std::sort(a.begin(), a.end(), [](const json::value& x, const json::value& y) {
        return x.at("id").to_number<std::int64_t>() < y.at("id").to_number<std::int64_t>();
    });
    return a;
}

/// The server's view of a store, keyed by entity_type, through the admin API.
std::optional<json::object> server_view(std::uint16_t port, std::int64_t store)
{
    http_client admin(port);
    json::object view;
    for (std::size_t i = 0; i < paths().size(); ++i) {
        auto r = admin.get("/api/v1/" + std::string(paths()[i]) + "?store_id=" + std::to_string(store), "adm");
        if (r.status != 200 || !r.json().is_array()) return std::nullopt;
        view[types()[i]] = sorted_by_id(r.json().as_array());
    }
    return view;
}

std::optional<json::object> read_dump(const std::string& file)
{
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::stringstream s;
    s << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(s.str(), ec);
    if (ec || !v.is_object()) return std::nullopt;
    json::object out;
    for (auto& [k, a] : v.as_object()) {
        if (!a.is_array()) return std::nullopt;
        out[k] = sorted_by_id(a.as_array());
    }
    return out;
}

struct pos_register {
    std::string dump;
    std::int64_t store;
    std::unique_ptr<child_process> process;
};

/// Asks the register to dump (SIGUSR1) until its dump equals the server's view.
bool converges(pos_register& r, std::uint16_t port, duration timeout)
{
    return wait_until([&] {
        auto view = server_view(port, r.store);
        if (!view) return false;
        std::filesystem::remove(r.dump);
        r.process->signal(SIGUSR1);
        if (!wait_until([&] { return std::filesystem::exists(r.dump); }, 2s)) return false;
        auto dump = read_dump(r.dump);
        return dump && *dump == *view;
    }, timeout);
}

std::unique_ptr<child_process> start_server(const temp_dir& dir, std::uint16_t port, int run)
{
    return std::make_unique<child_process>(
        std::vector<std::string>{INCSYNC_POS_SERVER_EXE, "--port", std::to_string(port), "--demo-data",
                                 "--demo-products", "40", "--admin-token", "adm", "--register-token", "t1:1",
                                 "--register-token", "t2:2", "--rate-limit", "0", "--heartbeat-ms", "500"},
        dir.file("server-" + std::to_string(run) + ".log"));
}

void random_writes(std::uint16_t port, std::mt19937_64& rng, int count)
{
    http_client admin(port);
    std::vector<std::int64_t> products;
    for (int i = 0; i < count; ++i) {
        const auto r = rng() % 6;
        if (r < 2 || products.empty()) {
            auto reply = admin.send(http::verb::post, "/api/v1/products", R"({"name":"E2E )" + std::to_string(i) + R"("})", "adm");
            if (reply.status == 201) products.push_back(reply.json().at("id").to_number<std::int64_t>());
        } else if (r < 3) {
            admin.send(http::verb::patch, "/api/v1/products/" + std::to_string(products[rng() % products.size()]),
                       R"({"price_cents":)" + std::to_string(rng() % 9000) + "}", "adm");
        } else if (r < 4) {
            auto k = rng() % products.size();
            admin.send(http::verb::delete_, "/api/v1/products/" + std::to_string(products[k]), {}, "adm");
            products.erase(products.begin() + static_cast<std::ptrdiff_t>(k));
        } else {
            admin.send(http::verb::post, "/api/v1/tables",
                       R"({"name":"E2E","store_id":)" + std::to_string(1 + rng() % 2) + "}", "adm");
        }
    }
}

BOOST_AUTO_TEST_SUITE(end_to_end_suite)

BOOST_AUTO_TEST_CASE(registers_converge_through_writes_and_a_server_killed_and_restarted)
{
    temp_dir dir;
    auto server = start_server(dir, 0, 1);
    BOOST_TEST_REQUIRE(server->wait_output("listening on", start_timeout));
    const auto port = listening_port(*server);
    BOOST_TEST_REQUIRE(port != 0);

    std::vector<pos_register> registers;
    const std::vector<std::pair<std::string, std::int64_t>> who = {{"t1", 1}, {"t1", 1}, {"t2", 2}};
    for (std::size_t i = 0; i < who.size(); ++i) {
        pos_register r;
        r.store = who[i].second;
        r.dump = dir.file("register-" + std::to_string(i + 1) + ".json");
        r.process = std::make_unique<child_process>(
            std::vector<std::string>{INCSYNC_POS_CLIENT_EXE, "--url", "http://127.0.0.1:" + std::to_string(port),
                                     "--token", who[i].first, "--store-id", std::to_string(r.store),
                                     "--cash-register-id", std::to_string(i + 1), "--dump", r.dump, "--no-bar",
                                     "--heartbeat-ms", "1000"},
            dir.file("register-" + std::to_string(i + 1) + ".log"));
        registers.push_back(std::move(r));
    }
    std::mt19937_64 rng(20261203);
    random_writes(port, rng, 150);
    for (auto& r : registers) BOOST_TEST(converges(r, port, 20s), r.dump);

    // Kill the server: no goodbye, and the restarted one has other data
    // (the demo catalog again, none of the writes) under a new store epoch.
    server->signal(SIGKILL);
    BOOST_TEST_REQUIRE(server->wait(op_timeout).has_value());
    server = start_server(dir, port, 2);
    BOOST_TEST_REQUIRE(server->wait_output("listening on", start_timeout));
    random_writes(port, rng, 100);
    for (auto& r : registers) BOOST_TEST(converges(r, port, 30s), r.dump);

    for (auto& r : registers) {
        BOOST_TEST(r.process->running()); // never restarted
        r.process->signal(SIGTERM);
        const int status = r.process->wait(op_timeout).value_or(-1);
        BOOST_TEST(status == 0, r.dump << " exit status " << status);
        auto dump = read_dump(r.dump);
        auto view = server_view(port, r.store);
        BOOST_TEST_REQUIRE((dump && view));
        BOOST_TEST((*dump == *view));
        const auto log = r.process->output();
        BOOST_TEST(log.find("(reload)") != std::string::npos, "the register reloaded after the restart");
    }
}

BOOST_AUTO_TEST_CASE(a_once_client_exits_zero_when_synced_and_nonzero_when_refused)
{
    temp_dir dir;
    child_process server({INCSYNC_POS_SERVER_EXE, "--port", "0", "--demo-data", "--demo-products", "30",
                          "--admin-token", "adm", "--register-token", "t1:1"},
                         dir.file("server.log"));
    BOOST_TEST_REQUIRE(server.wait_output("listening on", start_timeout));
    const auto url = "http://127.0.0.1:" + std::to_string(listening_port(server));
    child_process good({INCSYNC_POS_CLIENT_EXE, "--url", url, "--token", "t1", "--store-id", "1", "--once", "--dump",
                        dir.file("once.json")},
                       dir.file("good.log"));
    BOOST_TEST(good.wait(op_timeout).value_or(-1) == 0);
    auto dump = read_dump(dir.file("once.json"));
    BOOST_TEST_REQUIRE(dump.has_value());
    BOOST_TEST((*dump == *server_view(listening_port(server), 1)));
    child_process refused({INCSYNC_POS_CLIENT_EXE, "--url", url, "--token", "wrong", "--store-id", "1", "--once"},
                          dir.file("refused.log"));
    BOOST_TEST(refused.wait(op_timeout).value_or(-1) == 1);
    BOOST_TEST(refused.output().find("auth_expired") != std::string::npos);
    child_process bad_args({INCSYNC_POS_CLIENT_EXE, "--url", url, "--store-id", "1"}, dir.file("bad.log"));
    BOOST_TEST(bad_args.wait(op_timeout).value_or(-1) == 2);
}

BOOST_AUTO_TEST_SUITE_END()

#endif

} // namespace integration_end_to_end_test
