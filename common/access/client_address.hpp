// The address a request comes from. Behind a reverse proxy the socket's peer
// is the proxy; its X-Forwarded-For (or RFC 7239 Forwarded) header names the
// client, and is believed only when the peer is in server.trusted_proxies.
// Thread: any (pure).
#pragma once

#include "ip_network.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace clubvoice {

// The client's address: the peer's, or, when the peer is a trusted proxy, the
// last address in the forwarding chain that is not itself a trusted proxy.
// Entries that do not parse stop the walk there (the proxy before them is
// the last one that can be believed). X-Forwarded-For wins over Forwarded.
IpAddress client_address(const IpAddress& peer, std::span<const IpNetwork> trusted_proxies,
                         std::optional<std::string_view> x_forwarded_for,
                         std::optional<std::string_view> forwarded);

// The for= address of one element of a Forwarded header ("for=192.0.2.1",
// "for=\"[2001:db8::1]:80\""); nullopt without one, or for an obfuscated
// or "unknown" one.
std::optional<IpAddress> forwarded_for_entry(std::string_view element);

}  // namespace clubvoice
