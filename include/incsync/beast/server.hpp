// The sync server on Boost.Beast: one listener, one port, serving the POS API
// over HTTP/1.1 keep-alive, WebSocket notifications on the same path space,
// Server-Sent Events and long-poll `check` (PROTOCOL.md, all sections).
//
//     incsync::memory::server_store<incsync::pos::entities> store;
//     boost::asio::io_context ioc;
//     incsync::beast::server_options options;
//     options.api.tokens.add_admin("secret");
//     incsync::beast::server server(ioc.get_executor(), store, options);
//     server.listen({boost::asio::ip::make_address("127.0.0.1"), 8080});
//     ioc.run();
//
// The io_context may run on any number of threads: every connection runs on
// its own strand. The store must outlive the io_context's handlers.
#ifndef INCSYNC_BEAST_SERVER_HPP
#define INCSYNC_BEAST_SERVER_HPP

#include <incsync/beast/detail/http_session.hpp>
#include <incsync/beast/server_options.hpp>
#include <incsync/hub.hpp>
#include <incsync/store.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace incsync::beast {

/// The server over a store modelling `server_store`. Member functions are
/// thread-safe.
template <server_store Store>
class server {
public:
    server(boost::asio::any_io_executor executor, Store& store, server_options options = {})
        : core_(std::make_shared<detail::server_core<Store>>(executor, store, std::move(options))),
          acceptor_(std::make_shared<acceptor>(core_->connection_executor()))
    {
    }

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Stops accepting and closes every connection.
    ~server() { stop(); }

    /// Binds and starts accepting. Port 0 picks a free port (see `local_endpoint`).
    void listen(const boost::asio::ip::tcp::endpoint& endpoint)
    {
        boost::system::error_code ec;
        listen(endpoint, ec);
        if (ec) throw boost::system::system_error(ec, "listen");
    }

    void listen(const boost::asio::ip::tcp::endpoint& endpoint, boost::system::error_code& ec)
    {
        auto& a = acceptor_->socket;
        a.open(endpoint.protocol(), ec);
        if (!ec) a.set_option(boost::asio::socket_base::reuse_address(true), ec);
        if (!ec) a.bind(endpoint, ec);
        if (!ec) a.listen(boost::asio::socket_base::max_listen_connections, ec);
        if (ec) {
            boost::system::error_code ignored;
            a.close(ignored);
            return;
        }
        core_->log("listening on " + endpoint_text(a.local_endpoint(ec)));
        accept(acceptor_, core_);
    }

    boost::asio::ip::tcp::endpoint local_endpoint() const
    {
        boost::system::error_code ec;
        return acceptor_->socket.local_endpoint(ec);
    }

    /// Stops accepting, closes WebSockets with 1001 and every other
    /// connection. Idempotent; the io_context then runs out of work.
    void stop()
    {
        boost::asio::post(acceptor_->socket.get_executor(), [a = acceptor_] {
            boost::system::error_code ec;
            a->socket.close(ec);
        });
        core_->stop();
    }

    /// The hub: publish here what did not come through this server's own
    /// admin endpoints (another process's writes, a broker's messages).
    notification_hub& hub() noexcept { return core_->hub(); }

    /// The request handler (in-process calls, tests).
    incsync::server::handler<Store>& api() noexcept { return core_->api; }

    server_stats stats() const noexcept { return core_->stats(); }

private:
    struct acceptor {
        explicit acceptor(boost::asio::any_io_executor ex) : socket(ex), retry(ex) {}
        boost::asio::ip::tcp::acceptor socket;
        boost::asio::steady_timer retry; // after a failed accept (out of descriptors)
    };

    static std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep)
    {
        return ep.address().to_string() + ':' + std::to_string(ep.port());
    }

    // Free-standing so that the pending accept keeps what it needs alive.
    static void accept(std::shared_ptr<acceptor> a, std::shared_ptr<detail::server_core<Store>> core)
    {
        auto& socket = a->socket;
        auto executor = core->connection_executor(); // before `core` moves into the handler
        socket.async_accept(std::move(executor),
                            [a = std::move(a), core = std::move(core)](boost::system::error_code ec,
                                                                                 boost::asio::ip::tcp::socket s) mutable {
                                if (ec == boost::asio::error::operation_aborted || !a->socket.is_open()) return;
                                if (ec) {
                                    // Out of descriptors, say: log, pause, keep accepting.
                                    core->log("accept failed: " + ec.message());
                                    auto& retry = a->retry;
                                    retry.expires_after(std::chrono::milliseconds(100));
                                    retry.async_wait([a = std::move(a), core = std::move(core)](boost::system::error_code) mutable {
                                        if (a->socket.is_open()) accept(std::move(a), std::move(core));
                                    });
                                    return;
                                }
                                {
                                    boost::system::error_code ignored;
                                    s.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
                                    auto permit = core->admit(s.remote_endpoint(ignored).address().to_string());
                                    std::make_shared<detail::http_session<Store>>(std::move(s), core, std::move(permit))
                                        ->start();
                                }
                                accept(std::move(a), std::move(core));
                            });
    }

    std::shared_ptr<detail::server_core<Store>> core_;
    std::shared_ptr<acceptor> acceptor_;
};

} // namespace incsync::beast

#endif
