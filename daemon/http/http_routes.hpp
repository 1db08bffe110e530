// The daemon's HTTP surface: /health, /status, /metrics, the pages and
// static files. Figures come from the modules that own them, through the
// callbacks in StatusSources. Thread: loop.
#pragma once

#include "access_policy.hpp"
#include "config.hpp"
#include "http_types.hpp"
#include "metrics.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
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
    // `config` is the daemon's live configuration and `access` its access
    // policy; a reload changes both in place.
    HttpRoutes(const Config& config, const AccessPolicy& access, StatusSources sources);

    HttpResponse handle(const HttpRequest& request);
    // clubvoice_build_info, clubvoice_uptime_seconds ("version", "uptime_s")
    // and the refused admin requests ("access/admin_refused").
    static void report(MetricWriter& out, double uptime_s = 0.0, std::uint64_t admin_refused = 0);

  private:
    HttpResponse health() const;
    HttpResponse status() const;
    HttpResponse metrics() const;
    HttpResponse static_file(std::string_view path) const;
    // /status and /metrics: an admin token, or a client in access.admin_networks.
    std::optional<HttpResponse> refuse_unless_admin(const HttpRequest& request);
    double uptime_s() const;

    const Config& config_;
    const AccessPolicy& access_;
    StatusSources sources_;
    std::uint64_t admin_refused_ = 0;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace clubvoice
