// The store backends the invariant tests run against: the same test body,
// once per backend (BOOST_AUTO_TEST_CASE_TEMPLATE over `backends::all`).
// A backend object owns the stores it makes, and for SQLite their files,
// which it deletes when the test ends.
#ifndef INCSYNC_TESTS_UNIT_BACKENDS_HPP
#define INCSYNC_TESTS_UNIT_BACKENDS_HPP

#include <incsync/memory/client_store.hpp>
#include <incsync/memory/server_store.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/postgres/server_store.hpp>
#include <incsync/sqlite/client_store.hpp>
#include <incsync/sqlite/server_store.hpp>

#include <boost/test/unit_test.hpp>

#include "../support/postgres_server.hpp"
#include "temp_dir.hpp"

#include <atomic>

#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace backends {

using entities = incsync::pos::entities;
inline constexpr std::chrono::microseconds default_retention = std::chrono::hours(24 * 30);

struct memory_backend {
    using server_type = incsync::memory::server_store<entities>;
    using client_type = incsync::memory::client_store<entities>;

    server_type& server(std::chrono::microseconds retention = default_retention)
    {
        servers.push_back(std::make_unique<server_type>(incsync::memory::server_store_options{.retention = retention}));
        return *servers.back();
    }
    client_type& client()
    {
        clients.push_back(std::make_unique<client_type>());
        return *clients.back();
    }

    std::vector<std::unique_ptr<server_type>> servers;
    std::vector<std::unique_ptr<client_type>> clients;
};

struct sqlite_backend {
    using server_type = incsync::sqlite::server_store<entities>;
    using client_type = incsync::sqlite::client_store<entities>;

    /// A new store in a new file. Commits without fsync: these tests are about
    /// logic; durability has its own tests, which kill processes.
    server_type& server(std::chrono::microseconds retention = default_retention)
    {
        auto s = server_type::open(files.file("server" + std::to_string(servers.size()) + ".sqlite3"),
                                   {.retention = retention, .sync = incsync::sqlite::durability::normal});
        BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? std::string() : s.error().message()));
        servers.push_back(std::move(*s));
        return *servers.back();
    }
    client_type& client()
    {
        auto c = client_type::open(files.file("client" + std::to_string(clients.size()) + ".sqlite3"));
        BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message()));
        clients.push_back(std::move(*c));
        return *clients.back();
    }

    temp_dir files; // declared first: the stores close before their files go
    std::vector<std::unique_ptr<server_type>> servers;
    std::vector<std::unique_ptr<client_type>> clients;
};

/// PostgreSQL server stores, each in a schema of its own in the test
/// process's server (started on first use); SQLite replicas.
struct postgres_backend {
    using server_type = incsync::postgres::server_store<entities>;
    using client_type = incsync::sqlite::client_store<entities>;

    server_type& server(std::chrono::microseconds retention = default_retention)
    {
        static std::atomic<int> count{0};
        auto s = server_type::open(test_support::postgres_server::shared().conninfo(),
                                   {.schema = "unit_" + std::to_string(count++), .retention = retention,
                                    .idle_connections = 2});
        BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? std::string() : s.error().message()));
        servers.push_back(std::move(*s));
        return *servers.back();
    }
    client_type& client()
    {
        auto c = client_type::open(files.file("client" + std::to_string(clients.size()) + ".sqlite3"));
        BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message()));
        clients.push_back(std::move(*c));
        return *clients.back();
    }

    temp_dir files;
    std::vector<std::unique_ptr<server_type>> servers;
    std::vector<std::unique_ptr<client_type>> clients;
};

using all = std::tuple<memory_backend, sqlite_backend, postgres_backend>;
/// The client-store backends (postgres_backend's replicas are SQLite's).
using clients = std::tuple<memory_backend, sqlite_backend>;

} // namespace backends

#endif
