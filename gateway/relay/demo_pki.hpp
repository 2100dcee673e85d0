// A throwaway certificate authority and server certificate for the bundled relay (demo, local
// profile, tests), made with OpenSSL's APIs rather than by shelling out to openssl(1).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::gateway::relay {

struct DemoPki {
  std::string ca_cert_pem;      ///< trust this (ca.pem, NODE_EXTRA_CA_CERTS)
  std::string server_cert_pem;  ///< leaf only; the relay serves it
  std::string server_key_pem;   ///< PKCS#8, unencrypted: keep the file 0600
};

/// An EC P-256 CA ("gwprobe demo CA") and a server certificate signed by it for `dns_name`
/// with SAN DNS:<dns_name>, DNS:localhost, IP:127.0.0.1, IP:::1 and serverAuth usage.
core::Result<DemoPki> make_demo_pki(std::string_view dns_name,
                                    std::chrono::hours validity = std::chrono::hours(24 * 365));

}  // namespace gwprobe::gateway::relay
