// libFuzzer target for what a client or a proxy writes that access control
// reads: IP addresses and networks, X-Forwarded-For and Forwarded headers,
// and tokens checked against stored hashes.
//
// Input: lines split at '\n': the socket peer, an X-Forwarded-For value, a
// Forwarded value, then trusted networks; every line is also tried as an
// address, a network and a stored hash.
#include "client_address.hpp"
#include "ip_network.hpp"
#include "token_hash.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace clubvoice;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "access_fuzz: invariant broken: %s\n", what);
    std::abort();
}

std::vector<std::string_view> lines_of(std::string_view input) {
    std::vector<std::string_view> lines;
    for (std::size_t at = 0;;) {
        const std::size_t end = input.find('\n', at);
        lines.push_back(input.substr(at, end - at));
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return lines;
}

void check_line(std::string_view line) {
    if (auto address = IpAddress::parse(line)) {
        auto again = IpAddress::parse(address->to_string());
        require(again && *again == *address, "an address prints as itself");
    }
    std::string problem;
    if (auto network = IpNetwork::parse(line, &problem)) {
        require(network->contains(network->base), "a network contains its base");
    } else {
        require(!problem.empty(), "a refused network says why");
    }
    const std::string hash(line);
    if (!hash_problem(hash).empty()) {
        require(!token_matches("token", hash), "a malformed hash matches nothing");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::vector<std::string_view> lines = lines_of(input);
    for (std::string_view line : lines) check_line(line);
    const IpAddress peer = IpAddress::parse(lines[0]).value_or(IpAddress{});
    auto line = [&](std::size_t i) -> std::optional<std::string_view> {
        if (i < lines.size()) return lines[i];
        return std::nullopt;
    };
    std::vector<IpNetwork> trusted;
    for (std::size_t i = 3; i < lines.size(); ++i) {
        if (auto network = IpNetwork::parse(lines[i])) trusted.push_back(*network);
    }
    const IpAddress client = client_address(peer, trusted, line(1), line(2));
    if (!in_any(trusted, peer)) require(client == peer, "an untrusted peer is the client");
    if (lines.size() > 1) {
        const std::string token(lines[0]);
        const std::string stored = hash_token(token);
        require(token_matches(token, stored), "a token matches its own hash");
    }
    return 0;
}
