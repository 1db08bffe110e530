// Reading the request of a libwebsockets connection. Thread: loop.
#pragma once

#include "ip_network.hpp"

#include <libwebsockets.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

// A query argument, URL-decoded; `name_with_equals` is e.g. "sid=".
std::optional<std::string> url_arg(lws* wsi, const char* name_with_equals);
// Every query argument ("name=value", URL-decoded, as libwebsockets splits
// them), however long: url_arg() cannot see one longer than its buffer.
std::vector<std::string> url_arguments(lws* wsi);
// A request header, or nullopt when absent.
std::optional<std::string> request_header(lws* wsi, lws_token_indexes token);
// "GET", "POST", ... from the request line.
std::string_view request_method(lws* wsi);
// The socket peer's address, as text.
std::string peer_address(lws* wsi);
// The client's address: the peer's, or what a trusted proxy says it forwards
// for (client_address.hpp).
IpAddress request_client(lws* wsi, std::span<const IpNetwork> trusted_proxies);
// The token of an "Authorization: Bearer TOKEN" header; empty without one.
std::string request_bearer(lws* wsi);

}  // namespace clubvoice
