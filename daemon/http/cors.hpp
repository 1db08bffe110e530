// Which other sites' pages may use the server (server.cors_origins).
// Thread: any (pure).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace clubvoice {

// True when a request's Origin header is on the allow-list: equal to one of
// its entries, or any origin when the list holds "*". An empty list allows
// none: the server's own pages need no CORS headers.
bool origin_allowed(std::span<const std::string> allowed, std::string_view origin);

// Whether a handshake (WebSocket or polling) may come from this Origin: none
// (not a browser), the server's own (its host[:port] equals the Host header),
// or one on the allow-list. Anything else is a page of another site trying to
// use the visitor's browser against this server.
bool handshake_origin_allowed(std::span<const std::string> allowed,
                              std::optional<std::string_view> origin,
                              std::optional<std::string_view> host);

}  // namespace clubvoice
