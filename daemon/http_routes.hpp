// The daemon's HTTP surface: /health, /status, the pages and static files.
// Thread: loop.
#pragma once

#include "config.hpp"
#include "http_types.hpp"

#include <chrono>

namespace clubvoice {

class HttpRoutes {
public:
    // `config` is the daemon's live configuration; a reload changes it in place.
    explicit HttpRoutes(const Config& config);

    HttpResponse handle(const HttpRequest& request) const;

private:
    HttpResponse health() const;
    HttpResponse status() const;
    HttpResponse static_file(std::string_view path) const;

    const Config& config_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace clubvoice
