#include "token_commands.hpp"

#include "token_hash.hpp"

#include <fmt/format.h>

#include <istream>
#include <ostream>

namespace clubvoice {
namespace {

constexpr std::size_t kMaxTokenBytes = 256;  // what CONNECT accepts

}  // namespace

int run_hash_token(std::istream& in, std::ostream& out, std::ostream& err) {
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) {
        err << "clubvoiced: --hash-token: no token on stdin\n";
        return 2;
    }
    if (token.size() > kMaxTokenBytes) {
        err << fmt::format("clubvoiced: --hash-token: a token has at most {} bytes\n",
                           kMaxTokenBytes);
        return 2;
    }
    out << hash_token(token) << '\n';
    return 0;
}

int run_new_token(Role role, const std::string& name, std::ostream& out) {
    const std::string token = new_token();
    out << token << '\n'
        << fmt::format("  - {{ name: {}, role: {}, hash: \"{}\" }}\n", name, to_string(role),
                       hash_token(token));
    return 0;
}

}  // namespace clubvoice
