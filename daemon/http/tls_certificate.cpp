#include "tls_certificate.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace clubvoice {
namespace {

constexpr std::string_view kCertKey = "server.tls_cert_file";
constexpr std::string_view kKeyKey = "server.tls_key_file";
// A certificate chain or a key is a few KiB; anything much larger is not one.
constexpr std::size_t kMaxFileBytes = 1 << 20;

// OpenSSL keeps errors in a per-thread queue, and lws's later SSL_get_error()
// calls on this thread misread what is left there: leave it empty.
struct ErrorQueueCleaner {
    ErrorQueueCleaner() { ERR_clear_error(); }
    ~ErrorQueueCleaner() { ERR_clear_error(); }
    ErrorQueueCleaner(const ErrorQueueCleaner&) = delete;
    ErrorQueueCleaner& operator=(const ErrorQueueCleaner&) = delete;
};

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

struct FileClose {
    // A read-only file: nothing to lose if closing fails.
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
    void operator()(std::FILE* file) const { static_cast<void>(std::fclose(file)); }
};

template <typename... Args>
std::runtime_error problem(std::string_view key, fmt::format_string<Args...> format,
                           Args&&... args) {
    return std::runtime_error(
        fmt::format("{}: {}", key, fmt::format(format, std::forward<Args>(args)...)));
}

// The reason of the last error OpenSSL queued ("no start line", "bad decrypt").
std::string openssl_reason() {
    unsigned long error = ERR_peek_last_error();
    if (error == 0) return "no reason given";
    const char* reason = ERR_reason_error_string(error);
    return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", error);
}

bool at_end_of_pem() {
    unsigned long error = ERR_peek_last_error();
    return ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
}

std::string read_small_file(std::string_view key, const std::string& path) {
    std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw problem(key, "cannot read {}: {}", path, std::strerror(errno));
    std::string text;
    char block[4096];
    std::size_t got = 0;
    while ((got = std::fread(block, 1, sizeof block, file.get())) > 0) {
        text.append(block, got);
        if (text.size() > kMaxFileBytes) {
            throw problem(key, "{}: larger than {} bytes, not a PEM file", path, kMaxFileBytes);
        }
    }
    if (std::ferror(file.get())) {
        throw problem(key, "cannot read {}: {}", path, std::strerror(errno));
    }
    return text;
}

Bio memory_bio(const std::string& text) {
    Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) throw std::bad_alloc();
    return bio;
}

// A passphrase would have to be typed at a terminal the daemon does not have.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) noexcept {
    *static_cast<bool*>(asked) = true;
    return -1;
}

std::string subject_of(const X509* cert) {
    Bio out(BIO_new(BIO_s_mem()));
    if (!out) throw std::bad_alloc();
    if (X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
        return "(unprintable subject)";
    }
    char* data = nullptr;
    long size = BIO_get_mem_data(out.get(), &data);
    std::string subject(data, static_cast<std::size_t>(size));
    return subject.empty() ? "(empty subject)" : subject;
}

std::string describe_certificate(const X509* cert) {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
    const unsigned char* bytes = ASN1_STRING_get0_data(serial);
    std::string serial_hex;
    for (int i = 0; i < ASN1_STRING_length(serial); ++i) {
        serial_hex += fmt::format("{:02X}", bytes[i]);
    }
    std::tm until{};
    std::string expiry = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &until) == 1
                             ? fmt::format("{:%Y-%m-%d %H:%M} UTC", until)
                             : "an unreadable date";
    return fmt::format("{}, serial {}, valid until {}", subject_of(cert), serial_hex, expiry);
}

std::string key_type(const EVP_PKEY* key) {
    const char* name = key != nullptr ? EVP_PKEY_get0_type_name(key) : nullptr;
    return name != nullptr ? name : "unknown";
}

}  // namespace

TlsCertificate TlsCertificate::load(const std::string& cert_file, const std::string& key_file) {
    ErrorQueueCleaner clean;
    TlsCertificate cert;
    cert.cert_file_ = cert_file;
    cert.key_file_ = key_file;
    cert.read_certificates(read_small_file(kCertKey, cert_file));
    cert.read_key(read_small_file(kKeyKey, key_file));
    if (X509_check_private_key(cert.leaf_.get(), cert.key_.get()) != 1) {
        throw problem(kKeyKey, "{}: not the private key of the certificate in {}", key_file,
                      cert_file);
    }
    return cert;
}

void TlsCertificate::read_certificates(const std::string& pem) {
    Bio in = memory_bio(pem);
    chain_.reset(sk_X509_new_null());
    if (!chain_) throw std::bad_alloc();
    for (int index = 1;; ++index) {
        bool asked = false;
        std::unique_ptr<X509, Free> cert(
            PEM_read_bio_X509(in.get(), nullptr, refuse_passphrase, &asked));
        if (!cert) {
            if (index == 1 && at_end_of_pem()) {
                throw problem(kCertKey, "{}: no PEM certificate in it", cert_file_);
            }
            if (at_end_of_pem()) break;  // past the last one
            throw problem(kCertKey, "{}: certificate {} is not a valid PEM certificate ({})",
                          cert_file_, index, openssl_reason());
        }
        ERR_clear_error();
        if (index == 1) {
            leaf_ = std::move(cert);
        } else {
            if (sk_X509_push(chain_.get(), cert.get()) == 0) throw std::bad_alloc();
            static_cast<void>(cert.release());  // the stack owns it now
        }
    }
    ERR_clear_error();
}

void TlsCertificate::read_key(const std::string& pem) {
    Bio in = memory_bio(pem);
    bool asked = false;
    key_.reset(PEM_read_bio_PrivateKey(in.get(), nullptr, refuse_passphrase, &asked));
    if (key_) return;
    if (asked) {
        throw problem(kKeyKey,
                      "{}: the private key is encrypted; give the service an unencrypted one",
                      key_file_);
    }
    // OpenSSL's reason here ("unsupported") does not help: say what was looked for.
    throw problem(kKeyKey, "{}: no readable PEM private key in it", key_file_);
}

void TlsCertificate::install(SSL_CTX* ctx) const {
    ErrorQueueCleaner clean;
    if (const X509* served = SSL_CTX_get0_certificate(ctx); served != nullptr) {
        const EVP_PKEY* served_key = X509_get0_pubkey(served);
        if (served_key != nullptr &&
            EVP_PKEY_get_base_id(served_key) != EVP_PKEY_get_base_id(key_.get())) {
            throw problem(kCertKey,
                          "{}: its key is {}, the served certificate's is {}; "
                          "switching key types needs a restart",
                          cert_file_, key_type(key_.get()), key_type(served_key));
        }
    }
    // Checks everything (security level, key against certificate) before it
    // changes anything, then replaces certificate, chain and key in one go.
    if (SSL_CTX_use_cert_and_key(ctx, leaf_.get(), key_.get(), chain_.get(), 1) != 1) {
        throw problem(kCertKey, "{}: refused by OpenSSL ({})", cert_file_, openssl_reason());
    }
}

bool TlsCertificate::served_by(const SSL_CTX* ctx) const {
    const X509* served = SSL_CTX_get0_certificate(ctx);
    return served != nullptr && X509_cmp(served, leaf_.get()) == 0;
}

std::string TlsCertificate::describe() const {
    return describe_certificate(leaf_.get());
}

CertificateReload TlsCertificate::reload(SSL_CTX* ctx, const std::string& cert_file,
                                         const std::string& key_file) noexcept {
    ErrorQueueCleaner clean;
    try {
        TlsCertificate next = load(cert_file, key_file);
        const bool unchanged = next.served_by(ctx);
        next.install(ctx);
        if (unchanged) {
            return {log::Level::info, fmt::format("{}: {} unchanged, serving {}", kCertKey,
                                                  cert_file, next.describe())};
        }
        return {log::Level::notice, fmt::format("{}: now serving {} to new connections: {}",
                                                kCertKey, cert_file, next.describe())};
    } catch (const std::exception& e) {
        const X509* served = SSL_CTX_get0_certificate(ctx);
        return {log::Level::error,
                fmt::format("{}; certificate reload refused, still serving {}", e.what(),
                            served != nullptr ? describe_certificate(served) : "nothing")};
    }
}

}  // namespace clubvoice
