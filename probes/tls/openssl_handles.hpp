// RAII owners for the OpenSSL handles the TLS probe, the TLS fixtures and the proxy/WebSocket
// probes use. One deleter per C type; nothing else lives here.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <vector>

namespace gwprobe::probes::tls {

struct SslDeleter {
  void operator()(SSL* p) const noexcept { SSL_free(p); }
};
struct SslCtxDeleter {
  void operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct X509StoreDeleter {
  void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
};
struct X509StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const noexcept { BIO_free_all(p); }
};
struct BioMethodDeleter {
  void operator()(BIO_METHOD* p) const noexcept { BIO_meth_free(p); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct EvpPkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
};

using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, X509StoreCtxDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using BioMethodPtr = std::unique_ptr<BIO_METHOD, BioMethodDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

/// A new owning reference to a certificate someone else owns (X509_up_ref).
inline X509Ptr share(X509* cert) noexcept {
  if (cert != nullptr) X509_up_ref(cert);
  return X509Ptr(cert);
}

/// Owning copies (up-ref'd) of every certificate in a stack; the stack itself stays the caller's.
inline std::vector<X509Ptr> share_all(STACK_OF(X509) * stack) {
  std::vector<X509Ptr> out;
  if (stack == nullptr) return out;
  const int n = sk_X509_num(stack);
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(share(sk_X509_value(stack, i)));
  return out;
}

}  // namespace gwprobe::probes::tls
