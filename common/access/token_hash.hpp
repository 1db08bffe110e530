// Access tokens and their stored form. A token is random (256 bits, base64url);
// the configuration keeps only "sha256$SALT$DIGEST" (hex), DIGEST being
// SHA-256 over the salt's bytes followed by the token. Tokens carry enough
// entropy that a fast salted hash suffices: a slow password hash would let
// anyone burn the daemon's CPU with CONNECT attempts. Thread: any.
#pragma once

#include <string>
#include <string_view>

namespace clubvoice {

// A fresh token from the system's random source. Throws std::runtime_error.
std::string new_token();
// The stored form of `token`, with a fresh random salt.
std::string hash_token(std::string_view token);
// What is wrong with a stored hash; empty when it is well formed.
std::string hash_problem(std::string_view hash);
// True when `token` hashes to `hash`; the digests are compared in constant
// time. A malformed hash matches nothing.
bool token_matches(std::string_view token, std::string_view hash);

}  // namespace clubvoice
