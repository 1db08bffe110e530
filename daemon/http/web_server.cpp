#include "web_server.hpp"

#include "lws_request.hpp"

#include "internal_errors.hpp"
#include "log.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>
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

void forward_lws_line(int level, const char* line) {
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

void lws_log_to_ours(int level, const char* line) noexcept {
    run_guarded("the libwebsockets log callback", [&] { forward_lws_line(level, line); });
}

// Why binding host:port fails, found by trying it the way lws does.
constexpr std::string_view kBindFine = "refused by libwebsockets";

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
    std::string problem(kBindFine);  // the port can be bound: lws refused for another reason
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) problem = std::strerror(errno);
    close(fd);
    return problem;
}

const lws_protocols kProtocols[] = {
    // One protocol for HTTP and for WebSocket upgrades without a subprotocol
    // (Engine.IO clients ask for none). No extensions: permessage-deflate would
    // stop the prebuilt frames from being sent as they are.
    {"clubvoice", &WebServer::callback, sizeof(WsiState), 65536, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

WebServer::WebServer(uv_loop_t* loop, const Config::Server& config, HttpHandler handler,
                     HttpResponder& responder)
    : handler_(std::move(handler)), responder_(responder) {
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
    const bool tls = !config.tls_cert_file.empty();
    if (tls) {
        // lws reports an unreadable file only as a failed vhost: say which one here.
        for (const auto& [key, path] : {std::pair{"server.tls_cert_file", &config.tls_cert_file},
                                        std::pair{"server.tls_key_file", &config.tls_key_file}}) {
            if (::access(path->c_str(), R_OK) != 0) {
                throw std::runtime_error(
                    fmt::format("{}: cannot read {}: {}", key, *path, std::strerror(errno)));
            }
        }
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    }
    context_.reset(lws_create_context(&info));
    if (!context_) throw std::runtime_error("cannot create the libwebsockets context");

    lws_context_creation_info vhost_info{};
    vhost_info.port = config.port;
    vhost_info.protocols = kProtocols;
    vhost_info.vhost_name = "clubvoice";
    vhost_info.server_string = "clubvoiced";
    if (tls) {
        // lws decides per vhost from this option whether to set up TLS at all.
        vhost_info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        // HTTP/1.1 only: over HTTP/2 a browser would carry the WebSocket inside
        // h2 streams, where the prebuilt frames cannot go out as they are.
        vhost_info.alpn = "http/1.1";
        vhost_info.ssl_cert_filepath = config.tls_cert_file.c_str();
        vhost_info.ssl_private_key_filepath = config.tls_key_file.c_str();
    }
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
        // The foreign-loop teardown: destroy, let the loop close lws's handles
        // (nothing else runs on it yet), destroy again (the deleter).
        lws_context_destroy(context_.get());
        uv_run(loop, UV_RUN_DEFAULT);
        context_.reset();
        const std::string problem = bind_problem(config.host, config.port);
        if (tls && problem == kBindFine) {
            // The port is free: what failed is the certificate or its key.
            throw std::runtime_error(fmt::format(
                "server.tls_cert_file: cannot use {} with the key {} (not PEM, or not a pair)",
                config.tls_cert_file, config.tls_key_file));
        }
        throw std::runtime_error(fmt::format("server.port: cannot listen on {}:{}: {}", config.host,
                                             config.port, problem));
    }
    for (const auto& [level, text] : lines) log::at(level, "lws: {}", text);
}

WebServer::~WebServer() = default;

void WebServer::begin_shutdown() {
    ssl_ctx_ = nullptr;  // goes with the vhost
    if (context_) lws_context_destroy(context_.get());
}

CertificateReload WebServer::reload_certificate(const Config::Server& config) {
    if (config.tls_cert_file.empty()) return {};
    if (ssl_ctx_ == nullptr) {
        return {log::Level::error, "server.tls_cert_file: no TLS context to reload into"};
    }
    return TlsCertificate::reload(ssl_ctx_, config.tls_cert_file, config.tls_key_file);
}

ConnectionHandler* WebServer::handler_for(std::string_view path) const {
    for (ConnectionHandler* handler : handlers_) {
        if (handler->owns_path(path)) return handler;
    }
    return nullptr;
}

int WebServer::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                        size_t len) noexcept {
    try {
        return dispatch(wsi, reason, user, in, len);
    } catch (...) {
        on_callback_error(reason, static_cast<WsiState*>(user));
        return -1;  // lws closes this connection
    }
}

void WebServer::on_callback_error(lws_callback_reasons reason, WsiState* state) noexcept {
    if (state != nullptr && state->handler != nullptr) {
        state->handler->on_callback_error(*state, static_cast<int>(reason));
        return;
    }
    report_current_exception(
        fmt::format("an HTTP connection, lws reason {}", static_cast<int>(reason)));
}

int WebServer::dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    auto* self = static_cast<WebServer*>(lws_context_user(lws_get_context(wsi)));
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
        // Once, while the TLS vhost is made: user is its SSL_CTX, not a WsiState.
        self->ssl_ctx_ = static_cast<SSL_CTX*>(user);
        return 0;
    }
    auto* state = static_cast<WsiState*>(user);
    ConnectionHandler* handler = state != nullptr ? state->handler : nullptr;
    std::string_view data(static_cast<const char*>(in), in != nullptr ? len : 0);
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return self->on_http(wsi, state, data);
        case LWS_CALLBACK_HTTP_BODY:
            return handler != nullptr ? handler->on_http_body(wsi, *state, data) : 0;
        case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
            int rc = 0;
            if (self->responder_.on_body_done(wsi, &rc)) return rc;
            if (handler != nullptr) return handler->on_http_body_done(wsi, *state);
            break;
        }
        case LWS_CALLBACK_HTTP_WRITEABLE:
            if (self->responder_.has_pending(wsi)) return self->responder_.on_writeable(wsi);
            return handler != nullptr ? handler->on_http_writeable(wsi, *state) : 0;
        case LWS_CALLBACK_CLOSED_HTTP:
            self->responder_.forget(wsi);
            if (handler != nullptr) handler->on_http_closed(wsi, *state);
            break;
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return self->on_confirm_upgrade(wsi);
        case LWS_CALLBACK_ESTABLISHED:
            return self->on_established(wsi, state);
        case LWS_CALLBACK_RECEIVE:
            return handler != nullptr ? handler->on_ws_receive(wsi, *state, data) : -1;
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return handler != nullptr ? handler->on_ws_writeable(wsi, *state) : -1;
        case LWS_CALLBACK_CLOSED:
            if (handler != nullptr) handler->on_ws_closed(wsi, *state);
            break;
        default:
            break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int WebServer::on_http(lws* wsi, WsiState* state, std::string_view path) {
    std::string_view method = request_method(wsi);
    responder_.on_request(wsi);
    if (state != nullptr) *state = {nullptr, nullptr, 0};
    if (ConnectionHandler* handler = handler_for(path); handler != nullptr && state != nullptr) {
        return handler->on_http(wsi, *state, method);
    }
    const std::string bearer = request_bearer(wsi);
    HttpResponse response =
        handler_(HttpRequest{method, path, request_client(wsi, trusted_proxies_), bearer});
    log::debug("http: {} {} -> {}", method, path, response.status);
    if (response.status == 405) response.headers.emplace_back("allow", "GET, HEAD");
    return responder_.respond(wsi, response, method == "HEAD");
}

int WebServer::on_confirm_upgrade(lws* wsi) {
    std::string path = request_header(wsi, WSI_TOKEN_GET_URI).value_or("");
    ConnectionHandler* handler = handler_for(path);
    std::optional<HttpResponse> refusal =
        handler != nullptr ? handler->on_ws_filter(wsi)
                           : HttpResponse::json(400, R"({"code":3,"message":"Bad request"})");
    if (!refusal) return 0;
    // Refuse with a complete response written at once; lws ends the transaction.
    std::array<unsigned char, LWS_PRE + 1024> buffer{};
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size() - 1;
    if (lws_add_http_common_headers(wsi, static_cast<unsigned>(refusal->status),
                                    refusal->content_type.c_str(), refusal->body.size(), &p,
                                    end) != 0) {
        return -1;
    }
    for (const auto& [name, value] : refusal->headers) {
        std::string header = name + ":";
        if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(header.c_str()),
                                        reinterpret_cast<const unsigned char*>(value.data()),
                                        static_cast<int>(value.size()), &p, end) != 0) {
            return -1;
        }
    }
    if (lws_finalize_http_header(wsi, &p, end) != 0 ||
        static_cast<std::size_t>(end - p) < refusal->body.size()) {
        return -1;
    }
    p = std::copy(refusal->body.begin(), refusal->body.end(), p);
    if (lws_write(wsi, start, static_cast<std::size_t>(p - start), LWS_WRITE_HTTP_HEADERS) < 0) {
        return -1;
    }
    log::debug("http: refused a WebSocket handshake for {} ({})", path, refusal->status);
    return 1;
}

int WebServer::on_established(lws* wsi, WsiState* state) {
    std::string path = request_header(wsi, WSI_TOKEN_GET_URI).value_or("");
    ConnectionHandler* handler = handler_for(path);
    if (handler == nullptr || state == nullptr) return -1;
    return handler->on_ws_established(wsi, *state);
}

}  // namespace clubvoice
