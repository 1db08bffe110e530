#include "cors.hpp"

#include <algorithm>
#include <cctype>

namespace clubvoice {

bool origin_allowed(std::span<const std::string> allowed, std::string_view origin) {
    return std::any_of(allowed.begin(), allowed.end(),
                       [origin](const std::string& o) { return o == "*" || o == origin; });
}

bool handshake_origin_allowed(std::span<const std::string> allowed,
                              std::optional<std::string_view> origin,
                              std::optional<std::string_view> host) {
    if (!origin) return true;
    if (origin_allowed(allowed, *origin)) return true;
    if (!host || host->empty()) return false;
    std::string_view authority = *origin;
    for (std::string_view scheme : {"http://", "https://"}) {
        if (authority.starts_with(scheme)) {
            authority.remove_prefix(scheme.size());
            return authority.size() == host->size() &&
                   std::equal(authority.begin(), authority.end(), host->begin(),
                              [](char a, char b) {
                                  return std::tolower(static_cast<unsigned char>(a)) ==
                                         std::tolower(static_cast<unsigned char>(b));
                              });
        }
    }
    return false;  // "null" (a sandboxed or file: page) and other schemes
}

}  // namespace clubvoice
