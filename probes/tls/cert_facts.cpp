// Certificate facts from OpenSSL's X509 objects, and the small pure helpers around them.
#include "probes/tls/cert_facts.hpp"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "probes/tls/openssl_handles.hpp"

namespace gwprobe::probes::tls {

namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::size_t kSha1Bytes = 20;
constexpr std::size_t kSha256Bytes = 32;

std::string name_to_text(const X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  // RFC 2253 order and escaping, but UTF-8 kept as UTF-8 (the default escapes every byte >= 0x80).
  constexpr unsigned long kFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string name_entry(const X509_NAME* name, int nid) {
  if (name == nullptr) return {};
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string digest_hex(X509* cert, const EVP_MD* md) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, buf, &len) != 1) return {};
  return to_hex_upper(std::span(buf, len));
}

std::int64_t to_unix(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

void fill_key(X509* cert, CertFacts& f) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return;
  f.key_bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      f.key_type = "RSA";
      break;
    case EVP_PKEY_RSA_PSS:
      f.key_type = "RSA-PSS";
      break;
    case EVP_PKEY_EC: {
      f.key_type = "EC";
      char group[80] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
        const char* nist = EC_curve_nid2nist(OBJ_txt2nid(group));
        f.key_curve = nist != nullptr ? nist : group;
      }
      break;
    }
    case EVP_PKEY_ED25519:
      f.key_type = "ED25519";
      break;
    case EVP_PKEY_ED448:
      f.key_type = "ED448";
      break;
    case EVP_PKEY_DSA:
      f.key_type = "DSA";
      break;
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      f.key_type = name != nullptr ? name : "unknown";
    }
  }
}

void fill_spki(X509* cert, CertFacts& f) {
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  if (spki == nullptr) return;
  const int len = i2d_X509_PUBKEY(spki, nullptr);
  if (len <= 0) return;
  std::vector<unsigned char> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_PUBKEY(spki, &p) != len) return;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(der.data(), der.size(), md, &md_len, EVP_sha256(), nullptr) != 1) return;
  f.spki_sha256_hex = to_hex_upper(std::span(md, md_len));
  f.spki_sha256_base64 = to_base64(std::span(md, md_len));
}

std::string asn1_text(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

void fill_sans(X509* cert, CertFacts& f) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    switch (gn->type) {
      case GEN_DNS:
        f.sans.push_back("DNS:" + asn1_text(gn->d.dNSName));
        break;
      case GEN_EMAIL:
        f.sans.push_back("email:" + asn1_text(gn->d.rfc822Name));
        break;
      case GEN_URI:
        f.sans.push_back("URI:" + asn1_text(gn->d.uniformResourceIdentifier));
        break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(ip);
        const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
        if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text)) {
          f.sans.push_back(std::string("IP:") + text);
        }
        break;
      }
      default:
        break;
    }
  }
  GENERAL_NAMES_free(names);
}

bool contains_case_insensitive(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         contains_case_insensitive(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string to_hex_upper(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

std::string to_base64(std::span<const unsigned char> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::string display_name_of(std::string_view cn, std::string_view org, std::string_view dn) {
  if (!cn.empty()) {
    if (org.empty() || contains_case_insensitive(cn, org)) return std::string(cn);
    return std::string(cn) + " (" + std::string(org) + ")";
  }
  if (!org.empty()) return std::string(org);
  return std::string(dn);
}

std::string CertFacts::display_name() const {
  return display_name_of(subject_cn, subject_org, subject);
}

std::string CertFacts::key_description() const {
  if (!key_curve.empty()) return key_type + " " + key_curve;
  if (key_type == "ED25519" || key_type == "ED448" || key_bits == 0) return key_type;
  return key_type + " " + std::to_string(key_bits);
}

CertFacts cert_facts(X509* cert) {
  CertFacts f;
  if (cert == nullptr) return f;
  const X509_NAME* subject = X509_get_subject_name(cert);
  const X509_NAME* issuer = X509_get_issuer_name(cert);
  f.subject = name_to_text(subject);
  f.issuer = name_to_text(issuer);
  f.subject_cn = name_entry(subject, NID_commonName);
  f.subject_org = name_entry(subject, NID_organizationName);
  f.issuer_cn = name_entry(issuer, NID_commonName);
  f.issuer_org = name_entry(issuer, NID_organizationName);
  f.sha256 = digest_hex(cert, EVP_sha256());
  f.sha1 = digest_hex(cert, EVP_sha1());
  fill_spki(cert, f);
  f.not_before_unix = to_unix(X509_get0_notBefore(cert));
  f.not_after_unix = to_unix(X509_get0_notAfter(cert));
  fill_key(cert, f);
  fill_sans(cert, f);
  f.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
  f.self_issued = subject != nullptr && issuer != nullptr && X509_NAME_cmp(subject, issuer) == 0;
  return f;
}

std::vector<CertFacts> chain_facts(std::span<X509* const> chain) {
  std::vector<CertFacts> out;
  out.reserve(chain.size());
  for (X509* cert : chain) out.push_back(cert_facts(cert));
  return out;
}

std::string format_rfc3339(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return {};
  char buf[64];  // room for any int fields, so the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<std::int64_t> earliest_cert_expiry(std::span<const CertFacts> chain) {
  std::optional<std::int64_t> earliest;
  for (const auto& c : chain) {
    if (!earliest || c.not_after_unix < *earliest) earliest = c.not_after_unix;
  }
  return earliest;
}

ExpiryCheck check_expiry(std::span<const CertFacts> chain, WallClock::time_point now,
                         int warning_days) {
  ExpiryCheck out;
  const std::int64_t now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::optional<std::size_t> earliest;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto& c = chain[i];
    if (now_unix > c.not_after_unix || now_unix < c.not_before_unix) {
      out.state = now_unix > c.not_after_unix ? ExpiryCheck::State::expired
                                              : ExpiryCheck::State::not_yet_valid;
      out.index = i;
      out.days_left = (c.not_after_unix - now_unix) / kSecondsPerDay;
      return out;
    }
    if (!earliest || c.not_after_unix < chain[*earliest].not_after_unix) earliest = i;
  }
  if (!earliest) return out;
  const std::int64_t left = chain[*earliest].not_after_unix - now_unix;
  out.index = *earliest;
  out.days_left = left / kSecondsPerDay;
  if (warning_days > 0 && left < static_cast<std::int64_t>(warning_days) * kSecondsPerDay) {
    out.state = ExpiryCheck::State::expiring;
  }
  return out;
}

core::Result<std::string> normalize_fingerprint(std::string_view text, std::size_t digest_bytes) {
  const std::string_view original = text;
  const char* what = digest_bytes == kSha1Bytes ? "SHA-1" : "SHA-256";
  if (starts_with_ci(text, "sha256:")) {
    text.remove_prefix(7);
  } else if (starts_with_ci(text, "sha1:")) {
    text.remove_prefix(5);
  }
  std::string hex;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return core::fail(core::FailureKind::invalid_input,
                        "fingerprint '" + std::string(original) + "': expected hex digits");
    }
    hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (hex.size() != digest_bytes * 2) {
    return core::fail(core::FailureKind::invalid_input,
                      "fingerprint '" + std::string(original) + "': expected a " + what + " of " +
                          std::to_string(digest_bytes * 2) + " hex digits, got " +
                          std::to_string(hex.size()));
  }
  return hex;
}

core::Result<std::string> normalize_spki_pin(std::string_view text) {
  const std::string_view original = text;
  if (starts_with_ci(text, "sha256//")) {
    text.remove_prefix(8);
  } else if (starts_with_ci(text, "sha256/")) {
    text.remove_prefix(7);
  }
  if (text.size() == kSha256Bytes * 2 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    std::string hex(text);
    for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return hex;
  }
  const auto bad = [&] {
    return core::fail(core::FailureKind::invalid_input,
                      "SPKI pin '" + std::string(original) +
                          "': expected the base64 (44 characters) or hex (64 digits) SHA-256 of "
                          "a SubjectPublicKeyInfo");
  };
  constexpr std::size_t kBase64Len = 44;
  if (text.size() != kBase64Len || text.back() != '=' || text[kBase64Len - 2] == '=') return bad();
  unsigned char out[kBase64Len] = {};
  const int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  // EVP_DecodeBlock counts the padding as data: 44 characters with one '=' decode to 33 bytes.
  if (n != static_cast<int>(kSha256Bytes) + 1) return bad();
  return to_hex_upper(std::span<const unsigned char>(out, kSha256Bytes));
}

void record_chain_facts(std::span<const CertFacts> chain, std::span<const CertFacts> expiry_chain,
                        core::ProbeResult& into) {
  into.set_fact("chain_length", static_cast<std::int64_t>(chain.size()));
  std::vector<std::string> subjects;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto& c = chain[i];
    const std::string p = "cert" + std::to_string(i) + "_";
    into.set_fact(p + "subject", c.subject);
    into.set_fact(p + "issuer", c.issuer);
    into.set_fact(p + "sha256", c.sha256);
    into.set_fact(p + "sha1", c.sha1);
    into.set_fact(p + "spki_sha256", c.spki_sha256_base64);
    into.set_fact(p + "spki_sha256_hex", c.spki_sha256_hex);
    into.set_fact(p + "not_before", format_rfc3339(c.not_before_unix));
    into.set_fact(p + "not_after", format_rfc3339(c.not_after_unix));
    into.set_fact(p + "not_after_unix", c.not_after_unix);
    into.set_fact(p + "key", c.key_description());
    if (!c.sans.empty()) into.set_fact(p + "sans", c.sans);
    subjects.push_back(c.subject);
  }
  into.set_fact("chain_subjects", subjects);
  const auto earliest = earliest_cert_expiry(expiry_chain.empty() ? chain : expiry_chain);
  if (earliest) {
    into.set_fact("cert_not_after_unix", *earliest);
    into.set_fact("cert_not_after", format_rfc3339(*earliest));
  }
}

}  // namespace gwprobe::probes::tls
