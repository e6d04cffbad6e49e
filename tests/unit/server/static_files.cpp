#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/server/static_files.hpp>

#include <boost/test/unit_test.hpp>

#include "../temp_dir.hpp"

#include <fstream>
#include <string>

namespace unit_server_static_files_test {

using namespace incsync::server;

// A web root with a page, a script, a sub-directory, a hidden file, and a
// secret beside the root that a symbolic link inside points to.
struct site {
    backends::temp_dir dir;
    std::filesystem::path root = dir.path() / "web";

    site()
    {
        std::filesystem::create_directories(root / "help");
        std::filesystem::create_directories(root / "empty");
        write(root / "index.html", "<!doctype html><title>POS</title>");
        write(root / "app.js", "export const x = 1;");
        write(root / "help" / "index.html", "help");
        write(root / ".env", "TOKEN=secret");
        write(dir.path() / "secret.txt", "outside");
        std::filesystem::create_symlink(dir.path() / "secret.txt", root / "leak.txt");
        std::filesystem::create_symlink(root / "app.js", root / "alias.js");
    }

    static void write(const std::filesystem::path& p, const std::string& bytes) { std::ofstream(p) << bytes; }
};

request get(std::string_view target, http::verb method = http::verb::get)
{
    request req{method, target, 11};
    req.keep_alive(true);
    return req;
}

BOOST_FIXTURE_TEST_SUITE(server_static_files, site)

BOOST_AUTO_TEST_CASE(files_are_served_with_their_type_and_a_validator)
{
    static_files files(root);
    auto page = files.serve(get("/"), "/");
    BOOST_REQUIRE(page);
    BOOST_TEST(page->result_int() == 200);
    BOOST_TEST(page->body() == "<!doctype html><title>POS</title>");
    BOOST_TEST(page->at(http::field::content_type) == "text/html; charset=utf-8");
    BOOST_TEST(page->at(http::field::cache_control) == "no-cache");
    BOOST_TEST(page->at("Content-Security-Policy").find("default-src 'self'") != std::string::npos);

    auto script = files.serve(get("/app.js"), "/app.js");
    BOOST_REQUIRE(script);
    BOOST_TEST(script->at(http::field::content_type) == "text/javascript; charset=utf-8");
    BOOST_TEST(script->body() == "export const x = 1;");
    BOOST_TEST(files.serve(get("/help/"), "/help/")->body() == "help");
    BOOST_TEST(files.serve(get("/help"), "/help")->body() == "help");
    BOOST_TEST(files.serve(get("/alias.js"), "/alias.js")->body() == "export const x = 1;"); // a link inside stays inside
}

BOOST_AUTO_TEST_CASE(an_unchanged_file_answers_304_and_a_changed_one_200)
{
    static_files files(root);
    const auto etag = std::string(files.serve(get("/app.js"), "/app.js")->at(http::field::etag));
    auto again = get("/app.js");
    again.set(http::field::if_none_match, etag);
    auto res = files.serve(again, "/app.js");
    BOOST_TEST(res->result_int() == 304);
    BOOST_TEST(res->body().empty());

    write(root / "app.js", "export const x = 2;"); // read when asked: the edit shows
    res = files.serve(again, "/app.js");
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "export const x = 2;");
}

BOOST_AUTO_TEST_CASE(head_has_the_length_and_no_body)
{
    static_files files(root);
    auto res = files.serve(get("/app.js", http::verb::head), "/app.js");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body().empty());
    BOOST_TEST(res->at(http::field::content_length) == "19");
}

BOOST_AUTO_TEST_CASE(nothing_outside_plain_visible_files_is_served)
{
    static_files files(root);
    for (std::string_view path : {"/../secret.txt", "/help/../../secret.txt", "/leak.txt", "/.env", "/%2e%2e/secret.txt",
                                  "/help\\..\\..\\secret.txt", "//etc/passwd", "/empty/", "/missing.js", "", "app.js",
                                  "/c:/windows"}) {
        BOOST_TEST_CONTEXT("path " << path) { BOOST_TEST(!files.serve(get(path), path).has_value()); }
    }
    for (auto method : {http::verb::post, http::verb::put, http::verb::delete_})
        BOOST_TEST(!files.serve(get("/app.js", method), "/app.js").has_value());
}

BOOST_AUTO_TEST_CASE(a_missing_root_or_a_file_over_the_limit_serves_nothing)
{
    BOOST_TEST(!static_files(dir.path() / "nowhere").serve(get("/"), "/").has_value());
    BOOST_TEST(static_files(dir.path() / "nowhere").root().empty());
    static_files small(root, 10);
    BOOST_TEST(!small.serve(get("/app.js"), "/app.js").has_value());
    BOOST_TEST(small.serve(get("/help/"), "/help/").has_value());
}

BOOST_AUTO_TEST_CASE(content_types_by_extension)
{
    BOOST_TEST(static_files::content_type(".css") == "text/css; charset=utf-8");
    BOOST_TEST(static_files::content_type(".svg") == "image/svg+xml");
    BOOST_TEST(static_files::content_type(".exe") == "application/octet-stream");
    BOOST_TEST(static_files::content_type("") == "application/octet-stream");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_server_static_files_test
