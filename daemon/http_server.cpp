#include "http_server.hpp"

#include "log.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace clubvoice {
namespace {

// While the vhost is being created, lws's lines are held back: a failure is
// reported as one line of ours, not as lws's several.
std::vector<std::pair<log::Level, std::string>>* held_lines = nullptr;

void lws_log_to_ours(int level, const char* line) {
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    log::Level ours = level == LLL_ERR    ? log::Level::error
                      : level == LLL_WARN ? log::Level::warning
                                          : log::Level::debug;
    if (held_lines != nullptr) {
        held_lines->emplace_back(ours, text);
    } else {
        log::at(ours, "lws: {}", text);
    }
}

// Why binding host:port fails, found by trying it the way lws does.
std::string bind_problem(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    const char* node = host == "0.0.0.0" || host == "::" ? nullptr : host.c_str();
    hints.ai_family = host == "0.0.0.0" ? AF_INET : AF_UNSPEC;
    if (int rc = getaddrinfo(node, service.c_str(), &hints, &found); rc != 0) {
        return gai_strerror(rc);
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::strerror(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    std::string problem = "refused by libwebsockets";
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) problem = std::strerror(errno);
    close(fd);
    return problem;
}

std::string_view method_of(lws* wsi) {
    static constexpr std::array<std::pair<lws_token_indexes, std::string_view>, 7> kMethods{{
        {WSI_TOKEN_GET_URI, "GET"},
        {WSI_TOKEN_HEAD_URI, "HEAD"},
        {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
        {WSI_TOKEN_PUT_URI, "PUT"},
        {WSI_TOKEN_PATCH_URI, "PATCH"},
        {WSI_TOKEN_DELETE_URI, "DELETE"},
    }};
    for (const auto& [token, name] : kMethods) {
        if (lws_hdr_total_length(wsi, token) > 0) return name;
    }
    return "OTHER";
}

const lws_protocols kProtocols[] = {
    {"http", &HttpServer::callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

HttpServer::HttpServer(uv_loop_t* loop, const Config::Server& config, HttpHandler handler)
    : handler_(std::move(handler)) {
    int lws_levels = LLL_ERR | LLL_WARN;
    if (log::enabled(log::Level::debug)) lws_levels |= LLL_NOTICE;
    lws_set_log_level(lws_levels, lws_log_to_ours);

    // The context joins our loop; the vhost is created explicitly so that a
    // port that cannot be bound fails here instead of leaving a silent context.
    std::array<void*, 1> foreign_loops{loop};
    lws_context_creation_info info{};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.foreign_loops = foreign_loops.data();
    info.user = this;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    context_.reset(lws_create_context(&info));
    if (!context_) throw std::runtime_error("cannot create the libwebsockets context");

    lws_context_creation_info vhost_info{};
    vhost_info.port = config.port;
    vhost_info.protocols = kProtocols;
    vhost_info.vhost_name = "clubvoice";
    vhost_info.server_string = "clubvoiced";
    if (config.host == "0.0.0.0") {
        vhost_info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;  // every IPv4 address only
    } else if (config.host != "::") {
        vhost_info.iface = config.host.c_str();  // one address (or interface name)
    }
    std::vector<std::pair<log::Level, std::string>> lines;
    held_lines = &lines;
    lws_vhost* vhost = lws_create_vhost(context_.get(), &vhost_info);
    held_lines = nullptr;
    if (vhost == nullptr) {
        for (const auto& [level, text] : lines) log::debug("lws: {}", text);
        throw std::runtime_error(fmt::format("server.port: cannot listen on {}:{}: {}", config.host,
                                             config.port, bind_problem(config.host, config.port)));
    }
    for (const auto& [level, text] : lines) log::at(level, "lws: {}", text);
}

HttpServer::~HttpServer() = default;

void HttpServer::begin_shutdown() {
    if (context_) lws_context_destroy(context_.get());
}

int HttpServer::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    auto* self = static_cast<HttpServer*>(lws_context_user(lws_get_context(wsi)));
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return self->on_http(wsi, std::string_view(static_cast<const char*>(in), len));
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return self->on_writeable(wsi);
        case LWS_CALLBACK_CLOSED_HTTP:
            self->pending_bodies_.erase(wsi);
            break;
        default:
            break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int HttpServer::on_http(lws* wsi, std::string_view path) {
    std::string_view method = method_of(wsi);
    HttpResponse response = handler_(HttpRequest{method, path});
    bool head = method == "HEAD";
    log::debug("http: {} {} -> {}", method, path, response.status);

    if (!response.file.empty() && !head) {
        int rc = lws_serve_http_file(wsi, response.file.c_str(), response.content_type.c_str(),
                                     nullptr, 0);
        // < 0: failed, > 0: finished at once; 0: lws streams it and reports completion.
        if (rc < 0 || (rc > 0 && lws_http_transaction_completed(wsi) != 0)) return -1;
        return 0;
    }
    return send_headers(wsi, response, head);
}

int HttpServer::send_headers(lws* wsi, const HttpResponse& response, bool head) {
    std::size_t length = response.body.size();
    if (!response.file.empty()) {
        std::error_code ec;
        length = std::filesystem::file_size(response.file, ec);
        if (ec) length = 0;
    }
    std::array<unsigned char, LWS_PRE + 1024> buffer{};
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size() - 1;
    if (lws_add_http_common_headers(wsi, static_cast<unsigned>(response.status),
                                    response.content_type.c_str(), length, &p, end) != 0) {
        return -1;
    }
    static constexpr std::string_view kNoStore = "no-store";
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("cache-control:"),
                                    reinterpret_cast<const unsigned char*>(kNoStore.data()),
                                    static_cast<int>(kNoStore.size()), &p, end) != 0) {
        return -1;
    }
    if (response.status == 405) {
        static constexpr std::string_view kAllow = "GET, HEAD";
        if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("allow:"),
                                        reinterpret_cast<const unsigned char*>(kAllow.data()),
                                        static_cast<int>(kAllow.size()), &p, end) != 0) {
            return -1;
        }
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end) != 0) return -1;

    if (head || response.body.empty()) {
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
    }
    std::string& pending = pending_bodies_[wsi];
    pending.assign(LWS_PRE, '\0');
    pending += response.body;
    lws_callback_on_writable(wsi);
    return 0;
}

int HttpServer::on_writeable(lws* wsi) {
    auto it = pending_bodies_.find(wsi);
    if (it == pending_bodies_.end()) return 0;  // a spare callback
    std::string body = std::move(it->second);
    pending_bodies_.erase(it);
    auto* data = reinterpret_cast<unsigned char*>(body.data()) + LWS_PRE;
    std::size_t size = body.size() - LWS_PRE;
    // lws keeps what the kernel does not take at once and sends it before the
    // next writeable callback, so one write is enough here.
    if (lws_write(wsi, data, size, LWS_WRITE_HTTP_FINAL) != static_cast<int>(size)) return -1;
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

}  // namespace clubvoice
