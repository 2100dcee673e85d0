// Demo CA and server certificate with OpenSSL 3.
#include "gateway/relay/demo_pki.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace gwprobe::gateway::relay {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

core::Unexpected openssl_failed(const char* step) {
  return core::fail(core::FailureKind::internal,
                    std::string("certificate generation failed at ") + step);
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

X509Ptr new_cert(EVP_PKEY* key, const std::string& cn, std::chrono::hours validity) {
  X509Ptr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate small clock skew
  X509_gmtime_adj(
      X509_getm_notAfter(cert.get()),
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(validity).count()));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("gwprobe"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

std::string to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

core::Result<DemoPki> make_demo_pki(std::string_view dns_name, std::chrono::hours validity) {
  if (dns_name.empty() || dns_name.find_first_of(",\n\r ") != std::string_view::npos) {
    return core::fail(core::FailureKind::invalid_input, "certificate name must be one DNS name");
  }
  PkeyPtr ca_key(EVP_EC_gen("P-256"));
  PkeyPtr server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) return openssl_failed("key generation");

  X509Ptr ca = new_cert(ca_key.get(), "gwprobe demo CA", validity);
  if (!ca) return openssl_failed("CA certificate");
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  if (!add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash")) {
    return openssl_failed("CA extensions");
  }
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) return openssl_failed("CA signature");

  const std::string name(dns_name);
  X509Ptr leaf = new_cert(server_key.get(), name, validity);
  if (!leaf) return openssl_failed("server certificate");
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get()));
  std::string san = "DNS:" + name;
  if (name != "localhost") san += ",DNS:localhost";
  san += ",IP:127.0.0.1,IP:::1";
  if (!add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth") ||
      !add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san.c_str()) ||
      !add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always")) {
    return openssl_failed("server extensions");
  }
  if (X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) == 0)
    return openssl_failed("server signature");

  return DemoPki{to_pem(ca.get()), to_pem(leaf.get()), key_to_pem(server_key.get())};
}

}  // namespace gwprobe::gateway::relay
