#include "token_hash.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <vector>

namespace clubvoice {
namespace {

constexpr std::string_view kScheme = "sha256$";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kDigestBytes = 32;
constexpr std::size_t kTokenBytes = 32;

using Digest = std::array<unsigned char, kDigestBytes>;

std::vector<unsigned char> random_bytes(std::size_t n) {
    std::vector<unsigned char> bytes(n);
    if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) {
        throw std::runtime_error("the system's random source failed (OpenSSL RAND_bytes)");
    }
    return bytes;
}

std::string to_hex(const unsigned char* data, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0x0f];
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // lower case only: one spelling per hash
}

std::optional<std::vector<unsigned char>> from_hex(std::string_view text, std::size_t bytes) {
    if (text.size() != bytes * 2) return std::nullopt;
    std::vector<unsigned char> out(bytes);
    for (std::size_t i = 0; i < bytes; ++i) {
        int hi = hex_value(text[2 * i]);
        int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return out;
}

Digest digest_of(const std::vector<unsigned char>& salt, std::string_view token) {
    std::vector<unsigned char> input(salt);
    input.insert(input.end(), token.begin(), token.end());
    Digest digest{};
    unsigned int length = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr) !=
            1 ||
        length != digest.size()) {
        throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
    }
    return digest;
}

struct Parsed {
    std::vector<unsigned char> salt;
    std::vector<unsigned char> digest;
};

std::optional<Parsed> parse(std::string_view hash) {
    if (!hash.starts_with(kScheme)) return std::nullopt;
    hash.remove_prefix(kScheme.size());
    std::size_t dollar = hash.find('$');
    if (dollar == std::string_view::npos) return std::nullopt;
    auto salt = from_hex(hash.substr(0, dollar), kSaltBytes);
    auto digest = from_hex(hash.substr(dollar + 1), kDigestBytes);
    if (!salt || !digest) return std::nullopt;
    return Parsed{std::move(*salt), std::move(*digest)};
}

}  // namespace

std::string new_token() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::vector<unsigned char> bytes = random_bytes(kTokenBytes);
    std::string token;
    unsigned bits = 0;
    int held = 0;
    for (unsigned char byte : bytes) {
        bits = (bits << 8) | byte;
        held += 8;
        while (held >= 6) {
            held -= 6;
            token += kAlphabet[(bits >> held) & 0x3f];
        }
    }
    if (held > 0) token += kAlphabet[(bits << (6 - held)) & 0x3f];
    return token;
}

std::string hash_token(std::string_view token) {
    std::vector<unsigned char> salt = random_bytes(kSaltBytes);
    Digest digest = digest_of(salt, token);
    return fmt::format("{}{}${}", kScheme, to_hex(salt.data(), salt.size()),
                       to_hex(digest.data(), digest.size()));
}

std::string hash_problem(std::string_view hash) {
    if (parse(hash)) return {};
    return fmt::format(
        "is not a token hash (sha256$ then {} and {} lower-case hex digits, as "
        "clubvoiced --hash-token prints)",
        kSaltBytes * 2, kDigestBytes * 2);
}

bool token_matches(std::string_view token, std::string_view hash) {
    std::optional<Parsed> parsed = parse(hash);
    if (!parsed) return false;
    Digest digest = digest_of(parsed->salt, token);
    return CRYPTO_memcmp(digest.data(), parsed->digest.data(), digest.size()) == 0;
}

}  // namespace clubvoice
