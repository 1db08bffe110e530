#include "http_routes.hpp"

#include "log.hpp"
#include "static_files.hpp"
#include "version.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace clubvoice {
namespace {

// Pages have names without extensions; everything else is a file in the web root.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kPages{{
    {"/", "/index.html"},
    {"/talk", "/talk.html"},
    {"/debug", "/debug.html"},
}};

constexpr MetricInfo kBuildInfo{"clubvoice_build_info", MetricType::gauge, "info", "/version",
                                "Version of the running daemon (the label)."};
constexpr MetricInfo kUptime{"clubvoice_uptime_seconds", MetricType::gauge, "s", "/uptime_s",
                             "Time since the daemon started."};
constexpr MetricInfo kAdminRefused{
    "clubvoice_admin_refused_total", MetricType::counter, "", "/access/admin_refused",
    "Requests for /status or /metrics refused (401/403) for want of admin rights."};

}  // namespace

HttpRoutes::HttpRoutes(const Config& config, const AccessPolicy& access, StatusSources sources)
    : config_(config), access_(access), sources_(std::move(sources)) {}

double HttpRoutes::uptime_s() const {
    using namespace std::chrono;
    return duration<double>(steady_clock::now() - started_).count();
}

HttpResponse HttpRoutes::handle(const HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") {
        return HttpResponse::text(405, "method not allowed\n");
    }
    if (request.path == "/health") return health();
    if (request.path == "/status" || request.path == "/metrics") {
        if (auto refusal = refuse_unless_admin(request)) return *refusal;
        return request.path == "/status" ? status() : metrics();
    }
    return static_file(request.path);
}

std::optional<HttpResponse> HttpRoutes::refuse_unless_admin(const HttpRequest& request) {
    const AdminAnswer answer = access_.admin(request.client, request.bearer);
    if (answer == AdminAnswer::allowed) return std::nullopt;
    ++admin_refused_;
    const bool forbidden = answer == AdminAnswer::forbidden;
    log::info("http: {} refused to {}: {}", request.path, request.client.to_string(),
              forbidden ? "the token is not an admin's" : "no valid admin token");
    HttpResponse response = HttpResponse::json(
        forbidden ? 403 : 401,
        nlohmann::json{{"error", forbidden ? "an admin token is needed; this one is not"
                                           : "an admin token is needed"}}
            .dump());
    if (!forbidden) {
        response.headers.emplace_back("www-authenticate", R"(Bearer realm="clubvoice")");
    }
    // The figures are per request; no cache may keep them for the next asker.
    response.headers.emplace_back("cache-control", "no-store");
    return response;
}

HttpResponse HttpRoutes::health() const {
    nlohmann::json body = {{"status", "ok"}};
    if (sources_.health) sources_.health(body);
    return HttpResponse::json(body["status"] == "down" ? 503 : 200, body.dump());
}

void HttpRoutes::report(MetricWriter& out, double uptime_s, std::uint64_t admin_refused) {
    out.add_info(kBuildInfo, "version", kVersion);
    out.add(kUptime, uptime_s);
    out.add(kAdminRefused, static_cast<double>(admin_refused));
}

HttpResponse HttpRoutes::status() const {
    nlohmann::json body = {
        {"server", {{"host", config_.server.host}, {"port", config_.server.port}}},
        {"audio", {{"mode", to_string(config_.audio.mode)}}},
    };
    StatusWriter figures(body);
    report(figures, uptime_s(), admin_refused_);
    if (sources_.status) sources_.status(body);
    return HttpResponse::json(200, body.dump());
}

HttpResponse HttpRoutes::metrics() const {
    std::string text;
    PrometheusWriter figures(text);
    report(figures, uptime_s(), admin_refused_);
    if (sources_.metrics) sources_.metrics(text);
    HttpResponse response = HttpResponse::text(200, std::move(text));
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return response;
}

HttpResponse HttpRoutes::static_file(std::string_view path) const {
    for (const auto& [page, file] : kPages) {
        if (path == page) {
            path = file;
            break;
        }
    }
    auto file = resolve_static_file(config_.web.root, path);
    if (!file) return HttpResponse::text(404, "not found\n");
    HttpResponse response;
    response.content_type = std::string(content_type_for(*file));
    response.file = file->string();
    // Cross-origin isolation, so the web client may share memory
    // (SharedArrayBuffer) between its worker and its audio worklet. Every
    // file carries it: pages, and the worker scripts that must match them.
    response.headers = {{"cross-origin-opener-policy", "same-origin"},
                        {"cross-origin-embedder-policy", "require-corp"}};
    return response;
}

}  // namespace clubvoice
