// IP addresses and networks (CIDR), for access.admin_networks and
// server.trusted_proxies. An IPv4 address seen through an IPv6 socket
// (::ffff:a.b.c.d) counts as the IPv4 address. Thread: any (pure).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace clubvoice {

struct IpAddress {
    bool v4 = true;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first four

    // "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (read as IPv4); nullopt otherwise.
    static std::optional<IpAddress> parse(std::string_view text);
    std::string to_string() const;
    bool operator==(const IpAddress&) const = default;
};

struct IpNetwork {
    IpAddress base;
    int prefix = 0;  // leading bits that must match

    // "10.0.0.0/8", "::1/128", or a bare address (a network of one).
    // On failure, nullopt and what is wrong in *problem.
    static std::optional<IpNetwork> parse(std::string_view text, std::string* problem = nullptr);
    bool contains(const IpAddress& address) const;
};

bool in_any(std::span<const IpNetwork> networks, const IpAddress& address);

}  // namespace clubvoice
