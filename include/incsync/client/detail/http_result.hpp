// A Beast response as the client's `http_result`: one conversion for every
// transport that has a Beast message in hand (the network one, the loopback).
#ifndef INCSYNC_CLIENT_DETAIL_HTTP_RESULT_HPP
#define INCSYNC_CLIENT_DETAIL_HTTP_RESULT_HPP

#include <incsync/client/transport.hpp>
#include <incsync/detail/gzip.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <charconv>
#include <string>
#include <utility>

namespace incsync::client::detail {

/// `max_body_bytes` bounds a gzip body once inflated; a body that does not
/// inflate within it comes back empty with `failure` set.
template <class Fields>
http_result to_http_result(boost::beast::http::response<boost::beast::http::string_body, Fields>&& res,
                           std::size_t max_body_bytes = std::size_t(-1))
{
    namespace http = boost::beast::http;
    http_result out;
    out.status = res.result_int();
    out.wire_bytes = res.body().size();
    if (res[http::field::content_encoding] == "gzip") {
        if (!incsync::detail::gzip_decompress(res.body(), out.body, max_body_bytes))
            out.failure = "a gzip body that does not inflate (within the body limit)";
    } else {
        out.body = std::move(res.body());
    }
    out.etag = std::string(res[http::field::etag]);
    out.content_type = std::string(res[http::field::content_type]);
    if (auto ra = res[http::field::retry_after]; !ra.empty()) {
        long seconds = 0; // delta-seconds only; an HTTP date counts as no hint
        auto [p, ec] = std::from_chars(ra.data(), ra.data() + ra.size(), seconds);
        if (ec == std::errc() && seconds > 0) out.retry_after = std::chrono::seconds(seconds);
    }
    return out;
}

} // namespace incsync::client::detail

#endif
