// incsync-pos-server's start-up: tokens from a file as operators write them
// (CRLF, indented comments, blank lines of spaces), tokens never printed
// unless the server made them up, and a --web-root that is no directory.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include "harness.hpp"
#include "../support/postgres_server.hpp"
#include "process.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>

namespace integration_pos_server_flags_test {

#if defined(INCSYNC_POS_SERVER_EXE)

using namespace it;

BOOST_AUTO_TEST_SUITE(pos_server_flags_suite)

BOOST_AUTO_TEST_CASE(tokens_from_a_file_work_and_are_never_printed)
{
    temp_dir dir;
    std::ofstream(dir.file("tokens")) << "# tokens of the shop\r\n"
                                         "admin  secret-admin-7\r\n"
                                         "   \r\n"
                                         "\t# register 1, at the door\r\n"
                                         "register\tsecret-till-9 1\r\n";
    child_process server({INCSYNC_POS_SERVER_EXE, "--port", "0", "--config", dir.file("tokens"), "--web-root",
                          dir.path()},
                         dir.file("server.log"));
    BOOST_TEST_REQUIRE(server.wait_output("listening on", start_timeout), server.output());
    http_client http(listening_port(server));
    BOOST_TEST(http.send(http::verb::post, "/api/v1/products", R"({"name":"Tea"})", "secret-admin-7").status == 201u);
    BOOST_TEST(http.get("/api/v1/sync/products", "secret-till-9").status == 200u);
    BOOST_TEST(http.get("/api/v1/sync/products", "admin").status == 401u); // a word of the file is no token

    server.signal(SIGTERM);
    BOOST_TEST(server.wait(op_timeout).value_or(-1) == 0);
    const auto out = server.output();
    BOOST_TEST(out.find("web POS page: http://127.0.0.1:") != std::string::npos, out);
    BOOST_TEST(out.find("secret-admin-7") == std::string::npos, out);
    BOOST_TEST(out.find("secret-till-9") == std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(made_up_tokens_are_printed_because_nobody_else_knows_them)
{
    temp_dir dir;
    child_process server({INCSYNC_POS_SERVER_EXE, "--port", "0", "--web-root", ""}, dir.file("server.log"));
    // Standard output (tokens, then "listening on") reaches the file in one
    // flush; the log's own "listening on" line on standard error may be first.
    BOOST_TEST_REQUIRE(server.wait_output("admin token: ", op_timeout), server.output());
    BOOST_TEST_REQUIRE(server.wait_output("register token (store 2): ", op_timeout), server.output());
    const auto out = server.output();
    const auto at = out.find("admin token: ");
    BOOST_TEST_REQUIRE(at != std::string::npos, out);
    const auto token = out.substr(at + 13, out.find('\n', at) - at - 13);
    BOOST_TEST(token.size() == 24u);
    http_client http(listening_port(server));
    BOOST_TEST(http.send(http::verb::post, "/api/v1/products", R"({"name":"Tea"})", token).status == 201u);
    BOOST_TEST(out.find("web POS page") == std::string::npos, out); // --web-root "": none
}

BOOST_AUTO_TEST_CASE(bad_token_files_and_web_roots_stop_it_at_start)
{
    temp_dir dir;
    std::ofstream(dir.file("tokens")) << "admin\n"; // no token
    child_process bad_file({INCSYNC_POS_SERVER_EXE, "--port", "0", "--config", dir.file("tokens")}, dir.file("a.log"));
    BOOST_TEST(bad_file.wait(op_timeout).value_or(-1) == 2);
    BOOST_TEST(bad_file.output().find("cannot read tokens file") != std::string::npos, bad_file.output());

    child_process bad_root({INCSYNC_POS_SERVER_EXE, "--port", "0", "--web-root", dir.file("tokens")}, dir.file("b.log"));
    BOOST_TEST(bad_root.wait(op_timeout).value_or(-1) == 2);
    BOOST_TEST(bad_root.output().find("not a directory") != std::string::npos, bad_root.output());
}

BOOST_AUTO_TEST_CASE(a_connection_cap_that_is_no_count_stops_it_at_start)
{
    temp_dir dir;
    int n = 0;
    for (const char* bad : {"-1", "many", "", "12x"}) {
        child_process server({INCSYNC_POS_SERVER_EXE, "--port", "0", "--max-connections-per-ip", bad},
                             dir.file("cap" + std::to_string(n++) + ".log"));
        BOOST_TEST(server.wait(op_timeout).value_or(-1) == 2, bad);
        BOOST_TEST(server.output().find("expected a count (0: no cap)") != std::string::npos, server.output());
    }
}

BOOST_AUTO_TEST_CASE(bad_scale_out_flags_stop_it_at_start_with_the_reason)
{
    temp_dir dir;
    child_process bad_url({INCSYNC_POS_SERVER_EXE, "--port", "0", "--bus", "rediss://127.0.0.1:6379"}, dir.file("a.log"));
    BOOST_TEST(bad_url.wait(op_timeout).value_or(-1) == 2);
    BOOST_TEST(bad_url.output().find("TLS (rediss://) is not supported") != std::string::npos, bad_url.output());

    child_process no_shared_store({INCSYNC_POS_SERVER_EXE, "--port", "0", "--bus", "postgres"}, dir.file("b.log"));
    BOOST_TEST(no_shared_store.wait(op_timeout).value_or(-1) == 2);
    BOOST_TEST(no_shared_store.output().find("--bus needs a store several instances share") != std::string::npos,
               no_shared_store.output());

    // Nothing listens there: exit 1 with libpq's reason, the password hidden.
    const auto port = std::to_string(test_support::free_loopback_port());
    child_process unreachable({INCSYNC_POS_SERVER_EXE, "--port", "0", "--db",
                               "postgresql://pos:s3cret@127.0.0.1:" + port + "/pos"},
                              dir.file("c.log"));
    BOOST_TEST(unreachable.wait(start_timeout).value_or(-1) == 1);
    BOOST_TEST(unreachable.output().find("connect to PostgreSQL") != std::string::npos, unreachable.output());
    BOOST_TEST(unreachable.output().find(port) != std::string::npos, unreachable.output());
    BOOST_TEST(unreachable.output().find("s3cret") == std::string::npos, unreachable.output());
}

BOOST_AUTO_TEST_SUITE_END()

#endif

} // namespace integration_pos_server_flags_test
