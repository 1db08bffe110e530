// The server's TLS certificate as files on disk: server.tls_cert_file (the
// certificate, then any chain certificates, PEM) and server.tls_key_file (its
// private key, PEM), read and checked against each other with OpenSSL before
// any of it goes into service. `systemctl reload` uses it to serve renewed
// files (certbot renews into the same paths) without dropping a listener; a
// bad pair is refused and the served certificate stays. Thread: loop.
#pragma once

#include "log.hpp"

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace clubvoice {

// What a certificate reload did, as one line for the operator's log.
struct CertificateReload {
    log::Level level = log::Level::info;
    std::string message;  // empty: nothing to reload (plain HTTP)
};

class TlsCertificate {
  public:
    // Reads and checks both files: readable, PEM, and the key is the
    // certificate's. Throws std::runtime_error with one line naming the key
    // (server.tls_cert_file or server.tls_key_file), the file and the problem.
    static TlsCertificate load(const std::string& cert_file, const std::string& key_file);

    // Loads the files again and serves them from ctx (a server's SSL_CTX) if
    // they check out; otherwise ctx keeps serving what it serves. Never throws.
    static CertificateReload reload(SSL_CTX* ctx, const std::string& cert_file,
                                    const std::string& key_file) noexcept;

    // Serves this certificate, chain and key in the handshakes ctx starts from
    // now on; open connections keep theirs. All or nothing: when OpenSSL
    // refuses it, or its key type differs from the served certificate's (ctx
    // would then hold both, and pick one per client), it throws
    // std::runtime_error and ctx is left as it was.
    void install(SSL_CTX* ctx) const;

    // Whether ctx serves this very certificate already.
    bool served_by(const SSL_CTX* ctx) const;

    // "CN=box.lan, serial 1A2B, valid until 2025-09-01 12:00 UTC"
    std::string describe() const;

  private:
    struct Free {
        void operator()(X509* cert) const { X509_free(cert); }
        void operator()(STACK_OF(X509) * chain) const { sk_X509_pop_free(chain, X509_free); }
        void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    };

    TlsCertificate() = default;
    void read_certificates(const std::string& pem);
    void read_key(const std::string& pem);

    std::string cert_file_;
    std::string key_file_;
    std::unique_ptr<X509, Free> leaf_;
    std::unique_ptr<STACK_OF(X509), Free> chain_;  // what follows the leaf in its file
    std::unique_ptr<EVP_PKEY, Free> key_;
};

}  // namespace clubvoice
