// The daemon's HTTP surface: /health, /status, /metrics, the pages and
// static files. Figures come from the modules that own them, through the
// callbacks in StatusSources. Thread: loop.
#pragma once

#include "config.hpp"
#include "http_types.hpp"
#include "metrics.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace clubvoice {

struct StatusSources {
    // Adds the module's figures to the /status document.
    std::function<void(nlohmann::json& status)> status;
    // Appends the module's Prometheus lines to /metrics.
    std::function<void(std::string& metrics)> metrics;
    // Fills /health: "status" is "ok", "degraded" or "down" (503).
    std::function<void(nlohmann::json& health)> health;
};

class HttpRoutes {
  public:
    // `config` is the daemon's live configuration; a reload changes it in place.
    HttpRoutes(const Config& config, StatusSources sources);

    HttpResponse handle(const HttpRequest& request) const;
    // clubvoice_build_info and clubvoice_uptime_seconds ("version", "uptime_s").
    static void report(MetricWriter& out, double uptime_s = 0.0);

  private:
    HttpResponse health() const;
    HttpResponse status() const;
    HttpResponse metrics() const;
    HttpResponse static_file(std::string_view path) const;
    double uptime_s() const;

    const Config& config_;
    StatusSources sources_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace clubvoice
