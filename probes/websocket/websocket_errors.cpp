// from_asio and the transport error category.
#include "probes/websocket/websocket_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include <cerrno>

namespace gwprobe::probes::websocket {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;

class TransportCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "gwprobe.transport"; }
  std::string message(int ev) const override {
    return ev == static_cast<int>(TransportErrc::tls_failed) ? "TLS failure" : "transport failure";
  }
};

}  // namespace

std::string_view to_string(EndKind kind) noexcept {
  switch (kind) {
    case EndKind::fin:
      return "fin";
    case EndKind::rst:
      return "rst";
    case EndKind::close_frame:
      return "close_frame";
    case EndKind::blackhole:
      return "blackhole";
    case EndKind::aborted:
      return "aborted";
    case EndKind::failed:
      break;
  }
  return "failed";
}

ConnectionEnd from_asio(const boost::system::error_code& ec) {
  ConnectionEnd end;
  end.detail = ec.message();
  if (ec == net::error::eof || ec == beast::http::error::end_of_stream) {
    end.kind = EndKind::fin;
  } else if (ec == beast::websocket::error::closed) {
    end.kind = EndKind::close_frame;
  } else if (ec == net::error::connection_reset || ec == net::error::broken_pipe ||
             ec == net::error::connection_aborted) {
    end.kind = EndKind::rst;
  } else if (ec == net::error::operation_aborted) {
    end.kind = EndKind::aborted;
  } else if (ec == net::error::timed_out || ec == beast::error::timeout) {
    end.kind = EndKind::blackhole;
  } else {
    end.kind = EndKind::failed;
  }
  return end;
}

const boost::system::error_category& transport_category() noexcept {
  static const TransportCategory category;
  return category;
}

boost::system::error_code make_error_code(TransportErrc e) noexcept {
  return {static_cast<int>(e), transport_category()};
}

}  // namespace gwprobe::probes::websocket
