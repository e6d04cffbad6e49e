#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
// Scale-out end to end: three incsync-pos-server processes on one PostgreSQL
// store, their notifications fanned out by a bus (Redis Pub/Sub, or
// PostgreSQL LISTEN/NOTIFY), six registers spread across them, each knowing
// all three. Random writes go through every instance; one instance is
// killed midway. Every register must end up with exactly its store's data.
//
// A register is told of a write only by a notification from the instance it
// is connected to (there is no polling while its stream is up), so the
// convergence before the kill proves the bus carries writes across
// instances; the one after proves registers of the dead instance move on.
#include <incsync/postgres/server_store.hpp>

#include <boost/test/unit_test.hpp>

#include "../support/postgres_server.hpp"
#include "../support/redis_server.hpp"
#include "process.hpp"
#include "registers.hpp"

#include <csignal>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace integration_scale_out_test {

#if defined(INCSYNC_POS_SERVER_EXE)

using namespace it;
using pg_store_t = incsync::postgres::server_store<incsync::pos::entities>;

struct instance {
    std::unique_ptr<child_process> process;
    std::uint16_t port = 0;
    bool alive = true;
};

/// Starts `count` instances on `schema`, one after the other.
std::vector<instance> start_instances(const temp_dir& dir, const std::string& db, const std::string& schema,
                                      const std::string& bus, int count)
{
    std::vector<instance> out;
    for (int i = 0; i < count; ++i) {
        instance in;
        in.process = std::make_unique<child_process>(
            std::vector<std::string>{INCSYNC_POS_SERVER_EXE, "--port", "0", "--db", db, "--db-schema", schema, "--bus",
                                     bus, "--admin-token", "adm", "--register-token", "t1:1", "--register-token",
                                     "t2:2", "--rate-limit", "0", "--heartbeat-ms", "500", "--web-root", ""},
            dir.file(schema + "-" + std::to_string(i) + ".log"));
        BOOST_REQUIRE_MESSAGE(wait_until([&] { return listening_port(*in.process) != 0; }, start_timeout),
                              "instance " << i << " did not start: " << in.process->output());
        in.port = listening_port(*in.process);
        out.push_back(std::move(in));
    }
    return out;
}

/// `count` random writes (products, which every register holds, and tables
/// of both stores), each through the next live instance in turn.
void random_writes(std::vector<instance>& instances, std::mt19937_64& rng, int count)
{
    std::vector<std::int64_t> products;
    std::size_t turn = 0;
    for (int i = 0; i < count; ++i) {
        while (!instances[turn % instances.size()].alive) ++turn;
        http_client admin(instances[turn++ % instances.size()].port);
        const auto kind = rng() % 6;
        if (kind < 2 || products.empty()) {
            auto reply = admin.send(http::verb::post, "/api/v1/products",
                                    R"({"name":"scale-out )" + std::to_string(i) + R"("})", "adm");
            BOOST_REQUIRE_EQUAL(reply.status, 201);
            products.push_back(reply.json().at("id").to_number<std::int64_t>());
        } else if (kind < 4) {
            auto reply = admin.send(http::verb::patch, "/api/v1/products/" + std::to_string(products[rng() % products.size()]),
                                    R"({"price_cents":)" + std::to_string(rng() % 9000) + "}", "adm");
            BOOST_REQUIRE_EQUAL(reply.status, 200);
        } else if (kind < 5) {
            const auto k = rng() % products.size();
            auto reply = admin.send(http::verb::delete_, "/api/v1/products/" + std::to_string(products[k]), {}, "adm");
            BOOST_REQUIRE_EQUAL(reply.status, 204);
            products.erase(products.begin() + static_cast<std::ptrdiff_t>(k));
        } else {
            auto reply = admin.send(http::verb::post, "/api/v1/tables",
                                    R"({"name":"scale-out","store_id":)" + std::to_string(1 + rng() % 2) + "}", "adm");
            BOOST_REQUIRE_EQUAL(reply.status, 201);
        }
    }
}

/// A counter of an instance's /metrics (0 when absent).
std::uint64_t metric(std::uint16_t port, const std::string& sample)
{
    http_client admin(port);
    const auto body = admin.get("/metrics", "adm").body();
    const auto at = body.find("\n" + sample + " ");
    if (at == std::string::npos) return 0;
    return std::stoull(body.substr(at + sample.size() + 2));
}

void three_instances_converge_with_one_killed(const std::string& bus, const std::string& schema)
{
    temp_dir dir;
    auto& pg = test_support::postgres_server::shared();
    auto instances = start_instances(dir, pg.uri(), schema, bus, 3);
    auto store = pg_store_t::open(pg.conninfo(), {.schema = schema, .idle_connections = 2});
    BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? std::string() : store.error().message()));

    // Six registers, two per instance, each listing its own first.
    std::vector<std::unique_ptr<register_client>> registers;
    for (int i = 0; i < 6; ++i) {
        const auto home = static_cast<std::size_t>(i % 3);
        std::vector<std::uint16_t> ports;
        for (std::size_t k = 0; k < 3; ++k) ports.push_back(instances[(home + k) % 3].port);
        const std::int64_t store_id = 1 + i % 2;
        registers.push_back(std::make_unique<register_client>(ports, store_id == 1 ? "t1" : "t2", store_id, 100 + i));
    }
    auto all_converged = [&] {
        for (std::size_t i = 0; i < registers.size(); ++i)
            if (!converged(*registers[i], **store, 1 + static_cast<std::int64_t>(i % 2))) return false;
        return true;
    };
    BOOST_REQUIRE(wait_until([&] { return registers.size() == 6 && all_converged(); }, 20s));

    std::mt19937_64 rng(std::hash<std::string>{}(schema));
    random_writes(instances, rng, 60);
    BOOST_REQUIRE_MESSAGE(wait_until(all_converged, 30s), "registers did not converge through the bus");
    for (std::size_t i = 0; i < 3; ++i)
        BOOST_TEST(metric(instances[i].port, "incsync_bus_received_total{bus=\"" + bus.substr(0, bus.find(':')) + "\"}") > 0u,
                   "instance " << i << " relayed nothing from the others");

    // Instance 1 dies without a word; its two registers must move on.
    instances[1].process->signal(SIGKILL);
    BOOST_REQUIRE(instances[1].process->wait(10s).has_value());
    instances[1].alive = false;
    random_writes(instances, rng, 60);
    BOOST_REQUIRE_MESSAGE(wait_until(all_converged, 30s), "registers did not converge after an instance died");
    for (std::size_t i : {1u, 4u}) {
        BOOST_TEST(registers[i]->transport.current_index() != 0u, "register " << i << " still on the dead instance");
        BOOST_TEST(registers[i]->transport.failovers() >= 1u);
    }
    for (std::size_t i : {0u, 2u, 3u, 5u}) BOOST_TEST(registers[i]->transport.current_index() == 0u);
    registers.clear();
    for (auto& in : instances)
        if (in.alive) in.process->signal(SIGTERM);
    for (auto& in : instances)
        if (in.alive) BOOST_TEST(in.process->wait(10s).has_value());
}

BOOST_AUTO_TEST_SUITE(scale_out_suite)

BOOST_AUTO_TEST_CASE(three_instances_on_postgres_with_a_redis_bus)
{
    test_support::redis_server redis;
    three_instances_converge_with_one_killed("redis://127.0.0.1:" + std::to_string(redis.port()), "scale_out_redis");
}

BOOST_AUTO_TEST_CASE(three_instances_on_postgres_with_listen_notify)
{
    three_instances_converge_with_one_killed("postgres", "scale_out_postgres");
}

BOOST_AUTO_TEST_SUITE_END()

#endif

} // namespace integration_scale_out_test
