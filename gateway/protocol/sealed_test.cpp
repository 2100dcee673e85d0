// Sealed credentials: round trips, every way opening must fail, keys of the wrong type, and no
// key material in any message.
#include "gateway/protocol/sealed.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {
namespace {

using core::FailureKind;

constexpr const char* kPassword = "TopSecret1-db-password";

GatewayKey make_key(GatewayKeyPair* pair_out = nullptr) {
  auto pair = generate_gateway_key();
  EXPECT_TRUE(pair);
  auto key = GatewayKey::from_pem(pair->private_pem);
  EXPECT_TRUE(key) << key.error().message;
  if (pair_out) *pair_out = *pair;
  return *key;
}

// The key's PEM body lines, none of which may appear in any message.
std::vector<std::string> pem_lines(const std::string& pem) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < pem.size()) {
    auto end = pem.find('\n', start);
    if (end == std::string::npos) end = pem.size();
    const std::string line = pem.substr(start, end - start);
    if (!line.empty() && line.rfind("-----", 0) != 0) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

void expect_no_key_material(const core::Error& error, const GatewayKeyPair& pair) {
  const std::string text = error.message + " " + error.cause;
  for (const auto& line : pem_lines(pair.private_pem.reveal())) {
    EXPECT_EQ(text.find(line), std::string::npos) << "private key in: " << text;
  }
  EXPECT_EQ(text.find(kPassword), std::string::npos) << "password in: " << text;
}

// A PEM of another key type (RSA, EC, Ed25519) from OpenSSL, private or public.
std::string other_key_pem(const char* type, bool want_private) {
  EVP_PKEY* key = nullptr;
  if (std::string(type) == "EC") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else if (std::string(type) == "RSA") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  }
  EXPECT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  if (want_private) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

TEST(Sealed, RoundTripsAPassword) {
  GatewayKeyPair pair;
  const GatewayKey key = make_key(&pair);
  auto sealed = seal(pair.public_pem, core::Secret(kPassword));
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->rfind("gwp-sealed-v1:", 0), 0u);
  EXPECT_EQ(sealed->find(kPassword), std::string::npos);
  auto opened = key.open(*sealed);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->reveal(), kPassword);
}

TEST(Sealed, RoundTripsAnEmptyAndALongValue) {
  GatewayKeyPair pair;
  const GatewayKey key = make_key(&pair);
  for (const std::string& value :
       {std::string(), std::string(5000, 'x') + std::string("\n\0end", 5)}) {
    auto sealed = seal(key.public_pem(), core::Secret(value));
    ASSERT_TRUE(sealed);
    auto opened = key.open(*sealed);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->reveal(), value);
  }
}

TEST(Sealed, SealingTwiceGivesDifferentTextsThatBothOpen) {
  const GatewayKey key = make_key();
  auto a = seal(key.public_pem(), core::Secret(kPassword));
  auto b = seal(key.public_pem(), core::Secret(kPassword));
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b) << "fresh ephemeral key and nonce each time";
  EXPECT_TRUE(key.open(*a));
  EXPECT_TRUE(key.open(*b));
}

TEST(Sealed, AValueSealedToAnotherKeyFailsWithAuth) {
  GatewayKeyPair pair;
  const GatewayKey key = make_key(&pair);
  const GatewayKey other = make_key();
  auto sealed = seal(other.public_pem(), core::Secret(kPassword));
  ASSERT_TRUE(sealed);
  auto opened = key.open(*sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, FailureKind::auth);
  expect_no_key_material(opened.error(), pair);
}

TEST(Sealed, EveryTamperedByteFailsWithAuth) {
  GatewayKeyPair pair;
  const GatewayKey key = make_key(&pair);
  auto sealed = seal(key.public_pem(), core::Secret(kPassword));
  ASSERT_TRUE(sealed);
  const std::string raw = *base64_decode(sealed->substr(14));
  // Ephemeral key, nonce, ciphertext and tag: flipping a bit anywhere must be detected.
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    auto opened = key.open("gwp-sealed-v1:" + base64_encode(altered));
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().kind, FailureKind::auth) << "byte " << i;
    expect_no_key_material(opened.error(), pair);
  }
}

TEST(Sealed, ATruncatedValueFails) {
  const GatewayKey key = make_key();
  auto sealed = seal(key.public_pem(), core::Secret(kPassword));
  ASSERT_TRUE(sealed);
  std::string raw = *base64_decode(sealed->substr(14));
  raw.pop_back();
  auto opened = key.open("gwp-sealed-v1:" + base64_encode(raw));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, FailureKind::auth);
}

TEST(Sealed, GarbageEmptyAndWrongPrefixFailWithInvalidInput) {
  GatewayKeyPair pair;
  const GatewayKey key = make_key(&pair);
  auto good = seal(key.public_pem(), core::Secret(kPassword));
  ASSERT_TRUE(good);
  const std::string body = good->substr(14);
  for (const std::string& text :
       {std::string(), std::string("gwp-sealed-v1:"), std::string("garbage"),
        std::string("gwp-sealed-v2:") + body, std::string("GWP-SEALED-V1:") + body, body,
        std::string("gwp-sealed-v1:not base64!"), std::string("gwp-sealed-v1:") + "AAAA",
        std::string(kPassword)}) {
    auto opened = key.open(text);
    ASSERT_FALSE(opened) << text;
    EXPECT_EQ(opened.error().kind, FailureKind::invalid_input) << text;
    EXPECT_NE(opened.error().message.find("expected \"gwp-sealed-v1:\""), std::string::npos)
        << opened.error().message;
    expect_no_key_material(opened.error(), pair);
  }
}

TEST(Sealed, PublicPemOfALoadedKeyEqualsTheGeneratedOne) {
  GatewayKeyPair pair;
  const GatewayKey key = make_key(&pair);
  EXPECT_EQ(key.public_pem(), pair.public_pem);
  EXPECT_EQ(key.public_pem().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  EXPECT_EQ(pair.private_pem.reveal().rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
}

TEST(Sealed, LoadReadsAKeyFileAndNamesAMissingOne) {
  GatewayKeyPair pair;
  ASSERT_TRUE((pair = *generate_gateway_key(), true));
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gwprobe-sealed-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "gateway.key").string();
  std::ofstream(path) << pair.private_pem.reveal();
  auto key = GatewayKey::load(path);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->public_pem(), pair.public_pem);

  auto missing = GatewayKey::load((dir / "absent.key").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, FailureKind::not_found);
  EXPECT_NE(missing.error().message.find("absent.key"), std::string::npos);

  std::ofstream(path) << "not a key at all";
  auto bad = GatewayKey::load(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(bad.error().message.rfind(path + ": ", 0), 0u) << bad.error().message;
  std::filesystem::remove_all(dir);
}

TEST(Sealed, KeysOfOtherTypesAreRejectedWithoutQuotingThem) {
  for (const char* type : {"RSA", "EC", "ED25519", "X448"}) {
    const std::string private_pem = other_key_pem(type, true);
    auto key = GatewayKey::from_pem(core::Secret(private_pem));
    ASSERT_FALSE(key) << type;
    EXPECT_EQ(key.error().kind, FailureKind::invalid_input) << type;
    EXPECT_NE(key.error().message.find("X25519"), std::string::npos) << key.error().message;
    for (const auto& line : pem_lines(private_pem)) {
      EXPECT_EQ(key.error().message.find(line), std::string::npos) << key.error().message;
    }

    auto sealed = seal(other_key_pem(type, false), core::Secret(kPassword));
    ASSERT_FALSE(sealed) << type;
    EXPECT_EQ(sealed.error().kind, FailureKind::invalid_input) << type;
    EXPECT_NE(sealed.error().message.find("X25519"), std::string::npos);
  }
}

TEST(Sealed, APublicKeyIsNotAPrivateKeyAndViceVersa) {
  GatewayKeyPair pair;
  make_key(&pair);
  auto from_public = GatewayKey::from_pem(core::Secret(pair.public_pem));
  ASSERT_FALSE(from_public);
  EXPECT_EQ(from_public.error().kind, FailureKind::invalid_input);

  auto to_private = seal(pair.private_pem.reveal(), core::Secret(kPassword));
  ASSERT_FALSE(to_private);
  EXPECT_EQ(to_private.error().kind, FailureKind::invalid_input);
  expect_no_key_material(to_private.error(), pair);

  for (const std::string& junk : {std::string(), std::string("-----BEGIN PUBLIC KEY-----\nxx\n")}) {
    auto sealed = seal(junk, core::Secret(kPassword));
    ASSERT_FALSE(sealed);
    EXPECT_EQ(sealed.error().kind, FailureKind::invalid_input);
  }
}

TEST(Sealed, AnEncryptedPrivateKeyIsRejectedNotPromptedFor) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  static char kPass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), kPass,
                                          static_cast<int>(sizeof kPass - 1), nullptr, nullptr),
            1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  auto loaded = GatewayKey::from_pem(core::Secret(pem));
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, FailureKind::invalid_input);
}

// Opens a sealed value step by step from the documented construction, with OpenSSL's EVP_KDF
// rather than the code under test, so the format others implement cannot drift unnoticed:
// X25519(recipient private, ephemeral public) -> HKDF-SHA256(salt = ephemeral pub || recipient
// pub, info = "gwprobe sealed credentials v1") -> AES-256-GCM(nonce, no AAD, 16-byte tag).
TEST(Sealed, TheFormatIsTheDocumentedConstruction) {
  GatewayKeyPair pair;
  make_key(&pair);
  auto sealed = seal(pair.public_pem, core::Secret(kPassword));
  ASSERT_TRUE(sealed);
  ASSERT_EQ(sealed->rfind("gwp-sealed-v1:", 0), 0u);
  const std::string raw = *base64_decode(sealed->substr(14));
  ASSERT_EQ(raw.size(), 32 + 12 + std::string(kPassword).size() + 16);
  const std::string ephemeral_pub = raw.substr(0, 32);
  const std::string nonce = raw.substr(32, 12);
  const std::string ciphertext = raw.substr(44, raw.size() - 44 - 16);
  std::string tag = raw.substr(raw.size() - 16);

  BIO* bio = BIO_new_mem_buf(pair.private_pem.reveal().data(),
                             static_cast<int>(pair.private_pem.reveal().size()));
  EVP_PKEY* own = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(own, nullptr);
  unsigned char own_pub[32];
  size_t own_pub_len = sizeof own_pub;
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(own, own_pub, &own_pub_len), 1);
  EVP_PKEY* peer = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char*>(ephemeral_pub.data()), 32);
  EVP_PKEY_CTX* agree = EVP_PKEY_CTX_new(own, nullptr);
  unsigned char shared[32];
  size_t shared_len = sizeof shared;
  ASSERT_EQ(EVP_PKEY_derive_init(agree), 1);
  ASSERT_EQ(EVP_PKEY_derive_set_peer(agree, peer), 1);
  ASSERT_EQ(EVP_PKEY_derive(agree, shared, &shared_len), 1);
  EVP_PKEY_CTX_free(agree);
  EVP_PKEY_free(peer);
  EVP_PKEY_free(own);

  std::string salt = ephemeral_pub + std::string(reinterpret_cast<char*>(own_pub), 32);
  std::string info = "gwprobe sealed credentials v1";
  char digest[] = "SHA256";
  EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* kdf = EVP_KDF_CTX_new(hkdf);
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_octet_string("key", shared, shared_len),
                               OSSL_PARAM_construct_octet_string("salt", salt.data(), salt.size()),
                               OSSL_PARAM_construct_octet_string("info", info.data(), info.size()),
                               OSSL_PARAM_construct_end()};
  unsigned char aes_key[32];
  ASSERT_EQ(EVP_KDF_derive(kdf, aes_key, sizeof aes_key, params), 1);
  EVP_KDF_CTX_free(kdf);
  EVP_KDF_free(hkdf);

  EVP_CIPHER_CTX* gcm = EVP_CIPHER_CTX_new();
  std::string clear(ciphertext.size(), '\0');
  int len = 0;
  int final_len = 0;
  ASSERT_EQ(EVP_DecryptInit_ex(gcm, EVP_aes_256_gcm(), nullptr, aes_key,
                               reinterpret_cast<const unsigned char*>(nonce.data())),
            1);
  ASSERT_EQ(EVP_DecryptUpdate(gcm, reinterpret_cast<unsigned char*>(clear.data()), &len,
                              reinterpret_cast<const unsigned char*>(ciphertext.data()),
                              static_cast<int>(ciphertext.size())),
            1);
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_SET_TAG, 16, tag.data()), 1);
  EXPECT_EQ(
      EVP_DecryptFinal_ex(gcm, reinterpret_cast<unsigned char*>(clear.data()) + len, &final_len),
      1);
  EVP_CIPHER_CTX_free(gcm);
  EXPECT_EQ(clear, kPassword);
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
