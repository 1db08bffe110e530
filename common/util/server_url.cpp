#include "server_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace clubvoice {
namespace {

constexpr std::size_t kMaxUrlBytes = 2048;

bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

bool ipv6_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

// Printable ASCII without the space: what a request line can carry as it is.
bool path_char(char c) {
    return c > ' ' && c < 0x7f;
}

std::optional<ServerUrl> refuse(std::string* problem, std::string what) {
    if (problem != nullptr) *problem = std::move(what);
    return std::nullopt;
}

}  // namespace

std::string ServerUrl::text() const {
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("{}://{}{}{}:{}{}", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port, path);
}

std::optional<ServerUrl> parse_server_url(std::string_view text, std::span<const UrlScheme> schemes,
                                          std::string* problem) {
    if (text.size() > kMaxUrlBytes) {
        return refuse(problem, fmt::format("is longer than {} bytes", kMaxUrlBytes));
    }
    std::string names;
    for (const auto& scheme : schemes) {
        names += names.empty() ? "" : " or ";
        names += fmt::format("{}://", scheme.name);
    }
    const std::size_t colon = text.find("://");
    const auto scheme = std::find_if(schemes.begin(), schemes.end(), [&](const UrlScheme& s) {
        return colon != std::string_view::npos && text.substr(0, colon) == s.name;
    });
    if (scheme == schemes.end()) return refuse(problem, fmt::format("must begin with {}", names));

    ServerUrl url;
    url.scheme = std::string(scheme->name);
    std::string_view rest = text.substr(colon + 3);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return refuse(problem, "must not have a query or a fragment");
    }
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (!std::all_of(url.path.begin(), url.path.end(), path_char)) {
        return refuse(problem, "path must be printable ASCII without spaces (percent-encode)");
    }
    if (authority.find('@') != std::string_view::npos) {
        return refuse(problem, "must not carry a user or password (they have keys of their own)");
    }

    std::string_view port_text;
    if (authority.starts_with('[')) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return refuse(problem, "has an unclosed [");
        url.host = std::string(authority.substr(1, close - 1));
        if (url.host.empty() || !std::all_of(url.host.begin(), url.host.end(), ipv6_char)) {
            return refuse(problem, "has a bad IPv6 address in []");
        }
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) return refuse(problem, "has text after ]");
        if (!after.empty()) port_text = after.substr(1);
    } else {
        const std::size_t port_colon = authority.find(':');
        url.host = std::string(authority.substr(0, port_colon));
        if (port_colon != std::string_view::npos) port_text = authority.substr(port_colon + 1);
        if (url.host.empty()) return refuse(problem, "needs a host");
        if (!std::all_of(url.host.begin(), url.host.end(), host_char)) {
            return refuse(problem, "host may hold only letters, digits, '.', '-' and '_'");
        }
    }

    url.port = scheme->default_port;
    if (authority.find(':') != std::string_view::npos && !authority.ends_with(']')) {
        int port = 0;
        const char* end = port_text.data() + port_text.size();
        auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
        if (port_text.empty() || ec != std::errc() || ptr != end || port < 1 || port > 65535) {
            return refuse(problem, fmt::format("port must be 1 to 65535 (got \"{}\")", port_text));
        }
        url.port = port;
    }
    return url;
}

}  // namespace clubvoice
