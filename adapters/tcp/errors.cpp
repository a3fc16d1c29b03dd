#include "adapters/tcp/errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <string>

namespace peerlite::net {

bool is_recoverable(const boost::system::error_code& ec) {
  namespace e = boost::asio::error;
  return ec == e::connection_reset || ec == e::connection_refused || ec == e::timed_out ||
         ec == e::connection_aborted || ec == e::network_reset || ec == e::eof ||
         ec == e::broken_pipe || ec == e::try_again ||
         /// The socket was closed under a pending operation (a timeout closes it): the
         /// connection is gone, not misconfigured.
         ec == e::bad_descriptor ||
         /// A TLS peer that vanished (no close_notify): as EOF is for plain TCP.
         ec == boost::asio::ssl::error::stream_truncated;
}

messaging_error to_messaging_error(const boost::system::error_code& ec, std::string_view where) {
  std::string what(where);
  what += ": ";
  if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated)
    what += "peer closed the connection";
  else
    what += ec.message();
  return messaging_error{std::move(what), is_recoverable(ec)};
}

}  // namespace peerlite::net
