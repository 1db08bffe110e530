#include "http_responder.hpp"

#include "lws_request.hpp"

#include <array>
#include <cstring>
#include <filesystem>

namespace clubvoice {
namespace {

int add_header(lws* wsi, const std::string& name, const std::string& value, unsigned char** p,
               unsigned char* end) {
    std::string with_colon = name + ":";
    return lws_add_http_header_by_name(wsi,
                                       reinterpret_cast<const unsigned char*>(with_colon.c_str()),
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), p, end);
}

}  // namespace

int HttpResponder::send_headers(lws* wsi, const HttpResponse& response, std::size_t length) {
    std::array<unsigned char, LWS_PRE + 2048> buffer{};
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size() - 1;
    if (lws_add_http_common_headers(wsi, static_cast<unsigned>(response.status),
                                    response.content_type.c_str(), length, &p, end) != 0) {
        return -1;
    }
    if (response.file.empty() && add_header(wsi, "cache-control", "no-store", &p, end) != 0) {
        return -1;
    }
    for (const auto& [name, value] : response.headers) {
        if (add_header(wsi, name, value, &p, end) != 0) return -1;
    }
    // lws closes the connection after answering a "Connection: close"
    // request but does not say so; clients that pool connections (Node's
    // agent) would otherwise send the next request into the closed socket.
    if (auto connection = request_header(wsi, WSI_TOKEN_CONNECTION);
        connection && strcasestr(connection->c_str(), "close") != nullptr &&
        add_header(wsi, "connection", "close", &p, end) != 0) {
        return -1;
    }
    return lws_finalize_write_http_header(wsi, start, &p, end) != 0 ? -1 : 0;
}

void HttpResponder::forget(lws* wsi) {
    pending_.erase(wsi);
    awaiting_body_.erase(wsi);
}

void HttpResponder::on_request(lws* wsi) {
    awaiting_body_.erase(wsi);
    auto length = request_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    bool body = (length && *length != "0") || request_header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    if (body) awaiting_body_.emplace(wsi, std::nullopt);
}

bool HttpResponder::on_body_done(lws* wsi, int* rc) {
    auto it = awaiting_body_.find(wsi);
    if (it == awaiting_body_.end()) return false;
    std::optional<Deferred> deferred = std::move(it->second);
    awaiting_body_.erase(it);
    if (!deferred) return false;
    *rc = respond(wsi, std::move(deferred->response), deferred->head);
    return true;
}

int HttpResponder::respond(lws* wsi, HttpResponse response, bool head) {
    if (auto it = awaiting_body_.find(wsi); it != awaiting_body_.end()) {
        it->second = Deferred{std::move(response), head};
        return 0;
    }
    if (!response.file.empty() && !head) {
        // lws streams the file and reports LWS_CALLBACK_HTTP_FILE_COMPLETION.
        std::string extra;
        std::array<unsigned char, 1024> buffer{};
        unsigned char* p = buffer.data();
        unsigned char* end = buffer.data() + buffer.size();
        for (const auto& [name, value] : response.headers) {
            if (add_header(wsi, name, value, &p, end) != 0) return -1;
        }
        int rc = lws_serve_http_file(wsi, response.file.c_str(), response.content_type.c_str(),
                                     reinterpret_cast<const char*>(buffer.data()),
                                     static_cast<int>(p - buffer.data()));
        if (rc < 0 || (rc > 0 && lws_http_transaction_completed(wsi) != 0)) return -1;
        return 0;
    }
    std::size_t length = response.body.size();
    if (!response.file.empty()) {
        std::error_code ec;
        length = std::filesystem::file_size(response.file, ec);
        if (ec) length = 0;
    }
    if (send_headers(wsi, response, length) != 0) return -1;
    if (head || response.body.empty()) return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
    std::string& pending = pending_[wsi];
    pending.assign(LWS_PRE, '\0');
    pending += response.body;
    lws_callback_on_writable(wsi);
    return 0;
}

int HttpResponder::on_writeable(lws* wsi) {
    auto it = pending_.find(wsi);
    if (it == pending_.end()) return 0;
    std::string body = std::move(it->second);
    pending_.erase(it);
    auto* data = reinterpret_cast<unsigned char*>(body.data()) + LWS_PRE;
    std::size_t size = body.size() - LWS_PRE;
    // lws keeps what the kernel does not take at once and sends it before the
    // next writeable callback, so one write is enough here.
    if (lws_write(wsi, data, size, LWS_WRITE_HTTP_FINAL) != static_cast<int>(size)) return -1;
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

}  // namespace clubvoice
