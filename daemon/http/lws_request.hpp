// Reading the request of a libwebsockets connection. Thread: loop.
#pragma once

#include <libwebsockets.h>

#include <optional>
#include <string>
#include <string_view>

namespace clubvoice {

// A query argument, URL-decoded; `name_with_equals` is e.g. "sid=".
std::optional<std::string> url_arg(lws* wsi, const char* name_with_equals);
// A request header, or nullopt when absent.
std::optional<std::string> request_header(lws* wsi, lws_token_indexes token);
// "GET", "POST", ... from the request line.
std::string_view request_method(lws* wsi);
// The client's address, for log lines.
std::string peer_address(lws* wsi);

}  // namespace clubvoice
