// What an HTTP route sees and answers. Thread: loop.
#pragma once

#include "ip_network.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clubvoice {

struct HttpRequest {
    std::string_view method;  // "GET", "HEAD", "POST", ...
    std::string_view path;    // decoded path, without the query
    IpAddress client;         // request_client(): the peer, or whom a trusted proxy forwards
    std::string_view bearer;  // the Authorization: Bearer token; empty without one
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string file;  // when set, the file at this path is served instead of body
    std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. {"allow", "GET"}

    static HttpResponse json(int status, std::string body) {
        return {status, "application/json", std::move(body), {}, {}};
    }
    static HttpResponse text(int status, std::string body) {
        return {status, "text/plain; charset=utf-8", std::move(body), {}, {}};
    }
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace clubvoice
