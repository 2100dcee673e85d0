// from_asio: the one place where Boost.Asio/Beast error codes become "how the connection ended".
// Light header (boost/system only), so the table test needs no Beast.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace gwprobe::probes::websocket {

/// How a WebSocket connection ended (or an operation on it failed).
enum class EndKind {
  fin,          ///< the peer (or a middlebox) closed the TCP connection: FIN, or TLS close
  rst,          ///< reset: RST
  close_frame,  ///< a WebSocket close frame (its code is in the stream's close reason)
  blackhole,    ///< nothing came back before the deadline: a silent drop
  aborted,      ///< we closed or cancelled it
  failed,       ///< anything else (TLS error, protocol violation, local failure)
};

/// "fin", "rst", "close_frame", "blackhole", "aborted", "failed" (fact values).
std::string_view to_string(EndKind kind) noexcept;

struct ConnectionEnd {
  EndKind kind = EndKind::failed;
  std::string detail;  ///< the library's words ("Connection reset by peer")
};

/// Maps the error a read or write completed with. net::error::eof and http::error::end_of_stream
/// -> fin (the stream adapter reports a TLS stream cut short as eof too);
/// ECONNRESET/EPIPE/ECONNABORTED -> rst; websocket::error::closed -> close_frame; operation_aborted
/// -> aborted; timed_out -> blackhole; anything else -> failed.
ConnectionEnd from_asio(const boost::system::error_code& ec);

/// The category of transport failures the WebSocket client's stream adapter reports (TLS errors
/// carry their text separately).
enum class TransportErrc { tls_failed = 1 };
const boost::system::error_category& transport_category() noexcept;
boost::system::error_code make_error_code(TransportErrc e) noexcept;

}  // namespace gwprobe::probes::websocket
