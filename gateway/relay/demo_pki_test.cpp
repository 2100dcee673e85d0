// The demo PKI verifies as a chain with the names the local profile uses.
#include "gateway/relay/demo_pki.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace gwprobe::gateway::relay {
namespace {

X509* read_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

TEST(DemoPki, TheServerCertificateChainsToTheCaAndNamesLocalhostAndLoopback) {
  auto pki = make_demo_pki("relay.test");
  ASSERT_TRUE(pki) << pki.error().message;
  X509* ca = read_cert(pki->ca_cert_pem);
  X509* leaf = read_cert(pki->server_cert_pem);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(leaf, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  EXPECT_EQ(X509_check_host(leaf, "relay.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(leaf, "evil.test", 0, 0, nullptr), 0);
  EXPECT_NE(pki->server_key_pem.find("PRIVATE KEY"), std::string::npos);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca);
  X509_free(leaf);
}

TEST(DemoPki, RejectsANameThatIsNotOneDnsName) {
  EXPECT_FALSE(make_demo_pki(""));
  EXPECT_FALSE(make_demo_pki("a,b"));
}

}  // namespace
}  // namespace gwprobe::gateway::relay
