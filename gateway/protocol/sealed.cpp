// Sealed credentials: X25519 + HKDF-SHA256 + AES-256-GCM with OpenSSL 3's EVP interfaces.
#include "gateway/protocol/sealed.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {

namespace {

using core::FailureKind;

constexpr std::string_view kSealedPrefix = "gwp-sealed-v1:";
constexpr std::string_view kHkdfInfo = "gwprobe sealed credentials v1";
constexpr std::size_t kKeyBytes = 32;    // X25519 public key, AES-256 key
constexpr std::size_t kNonceBytes = 12;  // GCM's recommended IV size
constexpr std::size_t kTagBytes = 16;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

// Refuses to prompt for a passphrase: an encrypted key file must fail, not block on the TTY.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

BioPtr read_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> public_key_pem(EVP_PKEY* key) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) return std::nullopt;
  return bio_text(out.get());
}

std::optional<std::string> raw_public_key(EVP_PKEY* key) {
  std::string raw(kKeyBytes, '\0');
  std::size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, bytes(raw), &size) != 1 || size != kKeyBytes) {
    return std::nullopt;
  }
  return raw;
}

PkeyPtr new_x25519_key() {
  return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
}

// The X25519 shared secret of `own` (private) and `peer` (public); nullopt when OpenSSL refuses
// (it does for low-order peer points, whose shared secret would be all zeros).
std::optional<std::string> shared_secret(EVP_PKEY* own, EVP_PKEY* peer) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(own, nullptr));
  std::string secret(kKeyBytes, '\0');
  std::size_t size = secret.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), bytes(secret), &size) != 1 || size != kKeyBytes) {
    return std::nullopt;
  }
  return secret;
}

// HKDF-SHA256(ikm = shared secret, salt = ephemeral pub || recipient pub, info) -> AES key.
std::optional<core::Secret> derive_key(const std::string& shared, std::string_view ephemeral_pub,
                                       std::string_view recipient_pub) {
  const std::string salt = std::string(ephemeral_pub) + std::string(recipient_pub);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::string key(kKeyBytes, '\0');
  std::size_t size = key.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), bytes(salt), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes(shared), static_cast<int>(shared.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes(kHkdfInfo),
                                  static_cast<int>(kHkdfInfo.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), bytes(key), &size) != 1 || size != kKeyBytes) {
    return std::nullopt;
  }
  return core::Secret(std::move(key));
}

core::Result<PkeyPtr> parse_private_key(const core::Secret& private_pem) {
  auto bio = read_bio(private_pem.reveal());
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  if (!key) {
    return core::fail(FailureKind::invalid_input,
                      "gateway key: expected a PEM PKCS#8 X25519 private key (\"BEGIN PRIVATE "
                      "KEY\", unencrypted), as `gwprobe gateway keygen` writes");
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_X25519) {
    return core::fail(FailureKind::invalid_input,
                      std::string("gateway key: expected an X25519 private key, got ") +
                          (EVP_PKEY_get0_type_name(key.get()) ? EVP_PKEY_get0_type_name(key.get())
                                                              : "another key type"));
  }
  return key;
}

}  // namespace

core::Result<GatewayKeyPair> generate_gateway_key() {
  PkeyPtr key = new_x25519_key();
  if (!key) return core::fail(FailureKind::internal, "X25519 key generation failed");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out ||
      PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return core::fail(FailureKind::internal, "writing the X25519 private key as PEM failed");
  }
  auto public_pem = public_key_pem(key.get());
  if (!public_pem) {
    return core::fail(FailureKind::internal, "writing the X25519 public key as PEM failed");
  }
  return GatewayKeyPair{core::Secret(bio_text(out.get())), std::move(*public_pem)};
}

core::Result<std::string> seal(std::string_view public_pem, const core::Secret& plaintext) {
  auto bio = read_bio(public_pem);
  PkeyPtr recipient(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr)
                        : nullptr);
  if (!recipient) {
    return core::fail(FailureKind::invalid_input,
                      "gateway public key: expected a PEM X25519 public key (\"BEGIN PUBLIC "
                      "KEY\"), as `gwprobe gateway keygen` writes to gateway.pub");
  }
  if (EVP_PKEY_get_id(recipient.get()) != EVP_PKEY_X25519) {
    const char* type = EVP_PKEY_get0_type_name(recipient.get());
    return core::fail(FailureKind::invalid_input,
                      std::string("gateway public key: expected an X25519 key, got ") +
                          (type ? type : "another key type"));
  }
  PkeyPtr ephemeral = new_x25519_key();
  if (!ephemeral) return core::fail(FailureKind::internal, "X25519 key generation failed");
  const auto ephemeral_pub = raw_public_key(ephemeral.get());
  const auto recipient_pub = raw_public_key(recipient.get());
  if (!ephemeral_pub || !recipient_pub) {
    return core::fail(FailureKind::internal, "reading an X25519 public key failed");
  }
  const auto shared = shared_secret(ephemeral.get(), recipient.get());
  if (!shared) {
    return core::fail(FailureKind::invalid_input,
                      "gateway public key: X25519 key agreement failed (a low-order point?)");
  }
  const auto key = derive_key(*shared, *ephemeral_pub, *recipient_pub);
  if (!key) return core::fail(FailureKind::internal, "HKDF-SHA256 failed");

  const std::string nonce = random_bytes(kNonceBytes);
  const std::string& clear = plaintext.reveal();
  std::string ciphertext(clear.size(), '\0');
  std::string tag(kTagBytes, '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int written = 0;
  int final_written = 0;
  if (!ctx ||
      EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), bytes(key->reveal()), bytes(nonce),
                          nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes(ciphertext), &written, bytes(clear),
                        static_cast<int>(clear.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes(ciphertext) + written, &final_written) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) != 1) {
    return core::fail(FailureKind::internal, "AES-256-GCM encryption failed");
  }
  return std::string(kSealedPrefix) +
         base64_encode(*ephemeral_pub + nonce + ciphertext.substr(0, written + final_written) +
                       tag);
}

core::Result<GatewayKey> GatewayKey::from_pem(const core::Secret& private_pem) {
  auto key = parse_private_key(private_pem);
  if (!key) return core::fail(key.error());
  auto public_pem = public_key_pem(key->get());
  if (!public_pem) {
    return core::fail(FailureKind::internal, "writing the X25519 public key as PEM failed");
  }
  GatewayKey out;
  out.private_pem_ = private_pem;
  out.public_pem_ = std::move(*public_pem);
  return out;
}

core::Result<GatewayKey> GatewayKey::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    if (error == ENOENT) {
      return core::fail(FailureKind::not_found, "gateway key file '" + path + "' does not exist");
    }
    return core::fail(FailureKind::io,
                      "cannot read gateway key file '" + path + "': " + std::strerror(error));
  }
  core::Secret text{std::string(std::istreambuf_iterator<char>(in), {})};
  if (in.bad()) {
    return core::fail(FailureKind::io, "cannot read gateway key file '" + path + "'");
  }
  auto key = from_pem(text);
  if (!key) {
    core::Error error = key.error();
    error.message = path + ": " + error.message;
    return core::fail(std::move(error));
  }
  return key;
}

core::Result<core::Secret> GatewayKey::open(std::string_view sealed) const {
  const auto not_sealed = [](std::string_view why) {
    return core::fail(FailureKind::invalid_input,
                      "sealed credentials: " + std::string(why) +
                          ": expected \"gwp-sealed-v1:\" followed by base64, as `gwprobe gateway "
                          "seal` prints");
  };
  if (sealed.substr(0, kSealedPrefix.size()) != kSealedPrefix) {
    return not_sealed("no 'gwp-sealed-v1:' prefix");
  }
  const auto raw = base64_decode(sealed.substr(kSealedPrefix.size()));
  if (!raw) return not_sealed("bad base64");
  if (raw->size() < kKeyBytes + kNonceBytes + kTagBytes) return not_sealed("too short");

  auto own = parse_private_key(private_pem_);
  if (!own) return core::fail(own.error());
  const std::string_view view(*raw);
  const std::string ephemeral_pub(view.substr(0, kKeyBytes));
  const std::string nonce(view.substr(kKeyBytes, kNonceBytes));
  const std::string_view ciphertext =
      view.substr(kKeyBytes + kNonceBytes, raw->size() - kKeyBytes - kNonceBytes - kTagBytes);
  std::string tag(view.substr(raw->size() - kTagBytes));

  PkeyPtr ephemeral(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, bytes(ephemeral_pub),
                                                ephemeral_pub.size()));
  const auto own_pub = raw_public_key(own->get());
  if (!ephemeral || !own_pub) return not_sealed("bad ephemeral key");
  const auto shared = shared_secret(own->get(), ephemeral.get());
  // A low-order ephemeral point cannot come from seal(): treat it as tampering.
  if (!shared) {
    return core::fail(FailureKind::auth,
                      "sealed credentials: they do not open with this gateway's key (sealed to "
                      "another key, or altered)");
  }
  const auto key = derive_key(*shared, ephemeral_pub, *own_pub);
  if (!key) return core::fail(FailureKind::internal, "HKDF-SHA256 failed");

  std::string clear(ciphertext.size(), '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int written = 0;
  int final_written = 0;
  if (!ctx ||
      EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), bytes(key->reveal()), bytes(nonce),
                          nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), bytes(clear), &written, bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) != 1) {
    OPENSSL_cleanse(clear.data(), clear.size());
    return core::fail(FailureKind::internal, "AES-256-GCM decryption failed to start");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(clear) + written, &final_written) != 1) {
    // GCM decrypts before it authenticates: wipe the unauthenticated plaintext.
    OPENSSL_cleanse(clear.data(), clear.size());
    return core::fail(FailureKind::auth,
                      "sealed credentials: they do not open with this gateway's key (sealed to "
                      "another key, or altered)");
  }
  clear.resize(static_cast<std::size_t>(written + final_written));
  return core::Secret(std::move(clear));
}

}  // namespace gwprobe::gateway::protocol
