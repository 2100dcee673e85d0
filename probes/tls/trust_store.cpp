// Loading trusted certificates (cached per process), verifying chains, resolving expected roots.
#include "probes/tls/trust_store.hpp"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace gwprobe::probes::tls {

namespace {

constexpr std::size_t kSha1Bytes = 20;
constexpr std::size_t kSha256Bytes = 32;

struct CachedFile {
  off_t size = 0;
  struct timespec mtime {};
  std::shared_ptr<const CertList> certs;
};

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, CachedFile>& cache() {
  static std::map<std::string, CachedFile> c;
  return c;
}

bool same_stat(const CachedFile& c, const struct stat& st) {
  return c.size == st.st_size && c.mtime.tv_sec == st.st_mtim.tv_sec &&
         c.mtime.tv_nsec == st.st_mtim.tv_nsec;
}

/// Appends every certificate in the PEM file at `path`; returns false when it cannot be opened.
bool read_pem_file(const std::string& path, CertList& out) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return false;
  }
  while (X509* cert = PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr)) {
    X509Ptr owned(cert);
    CertFacts facts = cert_facts(owned.get());
    out.push_back(KnownCert{std::move(owned), std::move(facts)});
  }
  // The loop ends on "no start line" at end of file: expected, not an error to keep around.
  ERR_clear_error();
  return true;
}

core::Error file_error(const std::string& what, const std::string& path, int err) {
  const auto kind = err == ENOENT ? core::FailureKind::not_found : core::FailureKind::io;
  return core::Error{kind, what + " '" + path + "' cannot be read", std::strerror(err)};
}

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

/// The most telling verification error class first (see verify_chain's contract).
int problem_rank(VerifyProblem p) {
  switch (p) {
    case VerifyProblem::bad_signature:
      return 0;
    case VerifyProblem::self_signed_leaf:
      return 1;
    case VerifyProblem::issuer_missing:
      return 2;
    case VerifyProblem::untrusted_root:
      return 3;
    case VerifyProblem::other:
      return 4;
    case VerifyProblem::none:
      return 5;
  }
  return 5;
}

struct VerifyErrors {
  struct Entry {
    int code;
    int depth;
  };
  std::vector<Entry> entries;
};

extern "C" int collect_verify_error(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0) {
    auto* errors = static_cast<VerifyErrors*>(X509_STORE_CTX_get_app_data(ctx));
    // No exception may cross back into OpenSSL.
    try {
      if (errors != nullptr) {
        errors->entries.push_back(
            {X509_STORE_CTX_get_error(ctx), X509_STORE_CTX_get_error_depth(ctx)});
      }
    } catch (...) {
      return 0;
    }
  }
  // Carry on: gwprobe wants the whole path and every error, then judges for itself.
  return 1;
}

void add_all(X509_STORE* store, const std::shared_ptr<const CertList>& list) {
  if (!list) return;
  for (const auto& c : *list) {
    // Duplicates (the same root in the system store and the CA file) are harmless.
    X509_STORE_add_cert(store, c.cert.get());
  }
  ERR_clear_error();
}

}  // namespace

core::Result<std::shared_ptr<const CertList>> load_pem_certificates(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return core::fail(file_error("CA file", path, errno));
  {
    std::lock_guard lock(cache_mutex());
    auto it = cache().find(path);
    if (it != cache().end() && same_stat(it->second, st)) return it->second.certs;
  }
  auto certs = std::make_shared<CertList>();
  if (!read_pem_file(path, *certs)) return core::fail(file_error("CA file", path, errno));
  if (certs->empty()) {
    return core::fail(core::FailureKind::invalid_input,
                      "CA file '" + path + "': expected PEM certificates, found none");
  }
  std::shared_ptr<const CertList> shared = std::move(certs);
  std::lock_guard lock(cache_mutex());
  cache()[path] = CachedFile{st.st_size, st.st_mtim, shared};
  return shared;
}

core::Result<std::shared_ptr<const CertList>> load_system_certificates() {
  const std::string file = env_or(X509_get_default_cert_file_env(), X509_get_default_cert_file());
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) return load_pem_certificates(file);

  const std::string dir = env_or(X509_get_default_cert_dir_env(), X509_get_default_cert_dir());
  {
    std::lock_guard lock(cache_mutex());
    auto it = cache().find(dir);
    if (it != cache().end() && ::stat(dir.c_str(), &st) == 0 && same_stat(it->second, st)) {
      return it->second.certs;
    }
  }
  if (::stat(dir.c_str(), &st) != 0) {
    return core::fail(core::FailureKind::not_found,
                      "system trust store not found (neither " + file + " nor " + dir +
                          "): install ca-certificates or pass --ca-file");
  }
  auto certs = std::make_shared<CertList>();
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      read_pem_file(dir + "/" + e->d_name, *certs);
    }
    ::closedir(d);
  }
  if (certs->empty()) {
    return core::fail(core::FailureKind::not_found,
                      "system trust store " + dir +
                          " holds no certificates: install ca-certificates or pass --ca-file");
  }
  std::shared_ptr<const CertList> shared = std::move(certs);
  std::lock_guard lock(cache_mutex());
  cache()[dir] = CachedFile{st.st_size, st.st_mtim, shared};
  return shared;
}

core::Result<TrustMaterial> load_trust_material(const TlsOptions& options) {
  TrustMaterial out;
  if (options.use_system_store) {
    auto system = load_system_certificates();
    if (!system) return core::fail(system.error());
    out.system = *system;
  }
  if (!options.ca_file.empty()) {
    auto file = load_pem_certificates(options.ca_file);
    if (!file) return core::fail(file.error());
    out.ca_file = *file;
  }
  return out;
}

ChainVerification verify_chain(std::span<X509* const> presented, const TrustMaterial& trust) {
  ChainVerification out;
  if (presented.empty()) return out;
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) {
    out.problem = VerifyProblem::other;
    out.error_text = "out of memory";
    return out;
  }
  add_all(store.get(), trust.system);
  add_all(store.get(), trust.ca_file);
  for (std::size_t i = 1; i < presented.size(); ++i) {
    X509Ptr extra = share(presented[i]);
    if (sk_X509_push(untrusted.get(), extra.get()) > 0) {
      [[maybe_unused]] X509* owned_by_stack = extra.release();
    }
  }
  VerifyErrors errors;
  if (X509_STORE_CTX_init(ctx.get(), store.get(), presented[0], untrusted.get()) != 1) {
    out.problem = VerifyProblem::other;
    out.error_text = "cannot set up the certificate verifier";
    ERR_clear_error();
    return out;
  }
  X509_STORE_CTX_set_default(ctx.get(), "ssl_server");
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_NO_CHECK_TIME);
  X509_STORE_CTX_set_app_data(ctx.get(), &errors);
  X509_STORE_CTX_set_verify_cb(ctx.get(), collect_verify_error);
  const int rc = X509_verify_cert(ctx.get());
  if (rc <= 0 && errors.entries.empty()) {
    errors.entries.push_back({X509_STORE_CTX_get_error(ctx.get()), 0});
  }
  ERR_clear_error();

  X509StackPtr path(X509_STORE_CTX_get1_chain(ctx.get()));
  if (path && sk_X509_num(path.get()) > 0) {
    for (int i = 0; i < sk_X509_num(path.get()); ++i) {
      out.path.push_back(cert_facts(sk_X509_value(path.get(), i)));
    }
  } else {
    out.path.push_back(cert_facts(presented[0]));
  }

  const VerifyErrors::Entry* chosen = nullptr;
  for (const auto& e : errors.entries) {
    if (chosen == nullptr || problem_rank(classify_verify_error(e.code)) <
                                 problem_rank(classify_verify_error(chosen->code))) {
      chosen = &e;
    }
  }
  if (chosen != nullptr) {
    out.problem = classify_verify_error(chosen->code);
    if (out.problem == VerifyProblem::none) out.problem = VerifyProblem::other;
    out.problem_depth = chosen->depth > 0 ? static_cast<std::size_t>(chosen->depth) : 0;
    out.error_text = X509_verify_cert_error_string(chosen->code);
  }
  return out;
}

ExpectedRoots expected_roots_for(const TlsOptions& options, const TrustMaterial& trust,
                                 std::span<X509* const> presented) {
  std::vector<std::string> sha1;
  std::vector<std::string> sha256;
  for (const auto& fp : options.expected_root_sha1) {
    if (auto n = normalize_fingerprint(fp, kSha1Bytes)) sha1.push_back(*n);
  }
  for (const auto& fp : options.expected_root_sha256) {
    if (auto n = normalize_fingerprint(fp, kSha256Bytes)) sha256.push_back(*n);
  }
  if (sha1.empty() && sha256.empty() && trust.ca_file) {
    for (const auto& c : *trust.ca_file) sha256.push_back(c.facts.sha256);
  }
  ExpectedRoots out = resolve_expected_roots(sha1, sha256, options.expected_root_names, {});
  if (out.empty()) return out;

  // Certificates known to be expected CAs (by fingerprint), whose keys may vouch for others.
  std::vector<X509*> parents;
  std::vector<std::pair<X509*, CertFacts>> candidates;
  for (const auto* list : {trust.system.get(), trust.ca_file.get()}) {
    if (list == nullptr) continue;
    for (const auto& c : *list) {
      if (out.learn(c.facts)) {
        parents.push_back(c.cert.get());
      } else if (list == trust.ca_file.get() && c.facts.is_ca) {
        candidates.emplace_back(c.cert.get(), c.facts);
      }
    }
  }
  for (X509* cert : presented) {
    CertFacts facts = cert_facts(cert);
    if (out.learn(facts)) {
      parents.push_back(cert);
    } else if (facts.is_ca) {
      candidates.emplace_back(cert, std::move(facts));
    }
  }

  // A CA certificate signed by an expected CA's key is that CA's subordinate (or cross-signed
  // twin). Repeat until nothing new is learned; each round adds at least one, so this ends.
  bool learned = true;
  while (learned) {
    learned = false;
    for (auto it = candidates.begin(); it != candidates.end();) {
      const bool vouched = std::any_of(parents.begin(), parents.end(), [&](X509* parent) {
        return X509_check_issued(parent, it->first) == X509_V_OK &&
               X509_verify(it->first, X509_get0_pubkey(parent)) == 1;
      });
      if (vouched) {
        out.add_subordinate(it->second);
        parents.push_back(it->first);
        it = candidates.erase(it);
        learned = true;
      } else {
        ++it;
      }
    }
  }
  ERR_clear_error();
  return out;
}

}  // namespace gwprobe::probes::tls
