#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <incsync/pos/entities.hpp>
#include <incsync/server/images.hpp>

#include <boost/test/unit_test.hpp>

namespace unit_server_images_test {

using namespace incsync::server;
using namespace std::string_literals;

static_assert(has_image<incsync::pos::product>);
static_assert(!has_image<incsync::pos::category>);

BOOST_AUTO_TEST_SUITE(server_images)

BOOST_AUTO_TEST_CASE(formats_are_recognised_by_their_first_bytes)
{
    BOOST_TEST(sniff_image_type("\x89PNG\r\n\x1a\n...."s).value() == "image/png");
    BOOST_TEST(sniff_image_type("\xff\xd8\xff\xe0...."s).value() == "image/jpeg");
    BOOST_TEST(sniff_image_type("GIF89a...."s).value() == "image/gif");
    BOOST_TEST(sniff_image_type("RIFF\x10\0\0\0WEBPVP8 "s).value() == "image/webp");
    BOOST_TEST(sniff_image_type("  <?xml version=\"1.0\"?><svg/>").value() == "image/svg+xml");
    BOOST_TEST(sniff_image_type("<svg xmlns=\"http://www.w3.org/2000/svg\"/>").value() == "image/svg+xml");
    BOOST_TEST(!sniff_image_type("<html><script>alert(1)</script>"));
    BOOST_TEST(!sniff_image_type("<?xml version=\"1.0\"?><html/>"));
    BOOST_TEST(!sniff_image_type("\x89PN"s));
    BOOST_TEST(!sniff_image_type(""));
    BOOST_TEST(!make_image("not an image"));
}

BOOST_AUTO_TEST_CASE(etag_is_strong_and_follows_the_bytes)
{
    const auto a = image_etag("abc"), b = image_etag("abd");
    BOOST_TEST(a.size() == 18u);
    BOOST_TEST(a.front() == '"');
    BOOST_TEST(a.back() == '"');
    BOOST_TEST(a != b);
    BOOST_TEST(a == image_etag("abc"));
}

BOOST_AUTO_TEST_CASE(if_none_match_compares_weakly_over_a_list)
{
    const std::string tag = "\"0123456789abcdef\"";
    BOOST_TEST(etag_matches(tag, tag));
    BOOST_TEST(etag_matches("W/" + tag, tag));
    BOOST_TEST(etag_matches("\"x\", " + tag + " ,\"y\"", tag));
    BOOST_TEST(etag_matches("*", tag));
    BOOST_TEST(!etag_matches("\"0123456789abcdee\"", tag));
    BOOST_TEST(!etag_matches("", tag));
}

BOOST_AUTO_TEST_CASE(renditions_fall_back_to_the_original_and_go_with_it)
{
    memory_image_repository repo;
    auto original = make_image("\x89PNG\r\n\x1a\noriginal"s);
    auto small = make_image("\x89PNG\r\n\x1a\nsmall"s);
    (void)repo.put("product", 1, "", original);
    BOOST_TEST(repo.get("product", 1, "110").value() == original);
    (void)repo.put("product", 1, "110", small);
    BOOST_TEST(repo.get("product", 1, "110").value() == small);
    BOOST_TEST(repo.get("product", 1, "").value() == original);
    BOOST_TEST(!repo.get("product", 2, "").value());
    BOOST_TEST(!repo.get("category", 1, "").value());
    (void)repo.put("product", 1, "", make_image("\x89PNG\r\n\x1a\nnew"s)); // a new original drops old sizes
    BOOST_TEST(repo.get("product", 1, "110").value() != small);
    BOOST_TEST(repo.size() == 1u);
    (void)repo.put("product", 2, "", original);
    (void)repo.remove("product", 1);
    BOOST_TEST(!repo.get("product", 1, "").value());
    BOOST_TEST(repo.get("product", 2, "").value() == original);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace unit_server_images_test
