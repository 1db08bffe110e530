#include "client_address.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace clubvoice {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        std::size_t at = s.find(separator);
        parts.push_back(trim(s.substr(0, at)));
        if (at == std::string_view::npos) break;
        s.remove_prefix(at + 1);
    }
    return parts;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// "192.0.2.1", "192.0.2.1:443" or "[2001:db8::1]:443" (X-Forwarded-For
// entries are mostly bare; some proxies add the port).
std::optional<IpAddress> address_of(std::string_view text) {
    text = trim(text);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
    }
    if (!text.empty() && text.front() == '[') {
        std::size_t close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        return IpAddress::parse(text.substr(1, close - 1));
    }
    if (auto plain = IpAddress::parse(text)) return plain;
    std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        return IpAddress::parse(text.substr(0, colon));  // IPv4 with a port
    }
    return std::nullopt;
}

}  // namespace

std::optional<IpAddress> forwarded_for_entry(std::string_view element) {
    for (std::string_view pair : split(element, ';')) {
        std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (iequals(trim(pair.substr(0, eq)), "for")) return address_of(pair.substr(eq + 1));
    }
    return std::nullopt;
}

IpAddress client_address(const IpAddress& peer, std::span<const IpNetwork> trusted_proxies,
                         std::optional<std::string_view> x_forwarded_for,
                         std::optional<std::string_view> forwarded) {
    if (!in_any(trusted_proxies, peer)) return peer;
    std::vector<std::optional<IpAddress>> chain;
    if (x_forwarded_for) {
        for (std::string_view entry : split(*x_forwarded_for, ',')) {
            chain.push_back(address_of(entry));
        }
    } else if (forwarded) {
        for (std::string_view element : split(*forwarded, ',')) {
            chain.push_back(forwarded_for_entry(element));
        }
    }
    // From the nearest hop outwards: each trusted proxy vouches for the one before it.
    IpAddress client = peer;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (!*it) break;
        client = **it;
        if (!in_any(trusted_proxies, client)) break;
    }
    return client;
}

}  // namespace clubvoice
