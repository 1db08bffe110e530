#include "http_routes.hpp"

#include "static_files.hpp"
#include "version.hpp"

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

std::string_view mode_name(AudioMode mode) {
    switch (mode) {
        case AudioMode::listen: return "listen";
        case AudioMode::half: return "half";
        case AudioMode::full: return "full";
    }
    return "?";
}

}  // namespace

HttpRoutes::HttpRoutes(const Config& config) : config_(config) {}

HttpResponse HttpRoutes::handle(const HttpRequest& request) const {
    if (request.method != "GET" && request.method != "HEAD") {
        return HttpResponse::text(405, "method not allowed\n");
    }
    if (request.path == "/health") return health();
    if (request.path == "/status") return status();
    return static_file(request.path);
}

HttpResponse HttpRoutes::health() const {
    return HttpResponse::json(200, nlohmann::json{{"status", "ok"}}.dump());
}

HttpResponse HttpRoutes::status() const {
    using namespace std::chrono;
    double uptime = duration<double>(steady_clock::now() - started_).count();
    nlohmann::json body = {
        {"version", kVersion},
        {"uptime_s", uptime},
        {"server", {{"host", config_.server.host}, {"port", config_.server.port}}},
        {"audio", {{"mode", mode_name(config_.audio.mode)}}},
    };
    return HttpResponse::json(200, body.dump());
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
    return response;
}

}  // namespace clubvoice
