// The token helpers of the command line: --hash-token and --new-token.
// Thread: main, before the daemon starts.
#pragma once

#include "role.hpp"

#include <iosfwd>
#include <string>

namespace clubvoice {

// Reads one token (one line) from `in` and writes its hash on one line.
// Returns the exit status; problems go to `err` as one line.
int run_hash_token(std::istream& in, std::ostream& out, std::ostream& err);
// Writes a fresh token, then the access.tokens entry with its hash.
int run_new_token(Role role, const std::string& name, std::ostream& out);

}  // namespace clubvoice
