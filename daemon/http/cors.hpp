// Which other sites' pages may use the server (server.cors_origins).
// Thread: any (pure).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace clubvoice {

// True when a request's Origin header is on the allow-list: equal to one of
// its entries, or any origin when the list holds "*". An empty list allows
// none: the server's own pages need no CORS headers.
bool origin_allowed(std::span<const std::string> allowed, std::string_view origin);

}  // namespace clubvoice
