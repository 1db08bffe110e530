// EioServer, HTTP side: the handshake, long-polling GET and POST, CORS.
#include "eio_server.hpp"

#include "cors.hpp"
#include "log.hpp"
#include "lws_request.hpp"
#include "protocol_error.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>

namespace clubvoice {
namespace {

// Engine.IO's error codes, as the reference server sends them.
enum ErrorCode {
    kUnknownTransport = 0,
    kUnknownSid = 1,
    kBadHandshakeMethod = 2,
    kBadRequest = 3,
    kForbidden = 4,
    kUnsupportedProtocolVersion = 5
};

}  // namespace

void EioServer::add_cors(lws* wsi, HttpResponse& response) const {
    auto origin = request_header(wsi, WSI_TOKEN_ORIGIN);
    if (!origin || !origin_allowed(options_.cors_origins, *origin)) return;
    response.headers.emplace_back("access-control-allow-origin", *origin);
    response.headers.emplace_back("access-control-allow-credentials", "true");
    response.headers.emplace_back("vary", "Origin");
}

HttpResponse EioServer::error_response(lws* wsi, int code, std::string_view message) const {
    static constexpr std::array<std::string_view, 6> kMessages{
        "Transport unknown", "Session ID unknown", "Bad handshake method",
        "Bad request",       "Forbidden",          "Unsupported protocol version"};
    HttpResponse response = HttpResponse::json(
        code == kForbidden ? 403 : 400,
        nlohmann::json{{"code", code}, {"message", kMessages.at(static_cast<std::size_t>(code))}}
            .dump());
    add_cors(wsi, response);
    log::debug("engine.io: refused a request: {} ({})",
               kMessages.at(static_cast<std::size_t>(code)), message);
    return response;
}

// A body whose Content-Length passes max payload is refused before any of
// it is read (a body without one is counted as it arrives).
bool EioServer::declared_body_too_big(lws* wsi) const {
    auto length = request_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (!length) return false;
    std::uint64_t declared = 0;
    // The analyzer takes optional::operator-> for a reallocation of the string.
    const auto [end, error] =
        // NOLINTNEXTLINE(clang-analyzer-cplusplus.InnerPointer)
        std::from_chars(length->data(), length->data() + length->size(), declared);
    return error == std::errc::result_out_of_range ||
           (error == std::errc() && declared > options_.max_payload);
}

int EioServer::on_http(lws* wsi, WsiState& state, std::string_view method) {
    state = {this, nullptr, WsiKind::none};
    if (method == "OPTIONS") {
        HttpResponse preflight = HttpResponse::text(204, "");
        add_cors(wsi, preflight);
        preflight.headers.emplace_back("access-control-allow-methods", "GET, POST");
        if (auto requested = request_header(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS)) {
            preflight.headers.emplace_back("access-control-allow-headers", *requested);
        }
        return responder_.respond(wsi, preflight);
    }
    auto eio = url_arg(wsi, "EIO=");
    if (eio != "4") {
        return responder_.respond(wsi, error_response(wsi, kUnsupportedProtocolVersion, "EIO"));
    }
    auto transport = url_arg(wsi, "transport=");
    if (transport != "polling") {
        // A websocket handshake without the upgrade headers is a bad request.
        int code = transport == "websocket" ? kBadRequest : kUnknownTransport;
        return responder_.respond(wsi, error_response(wsi, code, "transport"));
    }
    auto sid = url_arg(wsi, "sid=");
    if (!sid) {
        if (method != "GET") {
            return responder_.respond(wsi, error_response(wsi, kBadHandshakeMethod, "handshake"));
        }
        const IpAddress client = request_client(wsi, options_.trusted_proxies);
        if (auto refusal = admit_handshake(wsi, client)) {
            add_cors(wsi, *refusal);
            return responder_.respond(wsi, *refusal);
        }
        EioSession& session = open_session(wsi, EioSession::Transport::polling, client);
        state = {this, &session, WsiKind::poll_get};
        session.poll_get = wsi;
        return on_http_writeable(wsi, state);
    }
    EioSession* session = find(*sid);
    if (session == nullptr) return responder_.respond(wsi, error_response(wsi, kUnknownSid, *sid));
    if (session->transport != EioSession::Transport::polling) {
        return responder_.respond(wsi, error_response(wsi, kBadRequest, "session upgraded"));
    }
    if (method == "GET") {
        if (session->poll_get != nullptr) {
            protocol_error(*session, "overlapping GET requests");
            return responder_.respond(wsi, error_response(wsi, kBadRequest, "overlapping GET"));
        }
        state = {this, session, WsiKind::poll_get};
        session->poll_get = wsi;
        // No time limit from lws while the poll waits: the heartbeat ends it.
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (has_output(*session) || session->upgrading) lws_callback_on_writable(wsi);
        return 0;
    }
    if (method == "POST") {
        if (session->poll_post != nullptr) {
            protocol_error(*session, "overlapping POST requests");
            return responder_.respond(wsi, error_response(wsi, kBadRequest, "overlapping POST"));
        }
        if (declared_body_too_big(wsi)) {
            log::info("engine.io: {} ({}): closed: POST declares over {} bytes", session->sid,
                      session->peer, options_.max_payload);
            close(*session, "payload too large");
            HttpResponse too_large = HttpResponse::text(413, "payload too large\n");
            add_cors(wsi, too_large);
            return responder_.respond(wsi, too_large);
        }
        state = {this, session, WsiKind::poll_post};
        session->poll_post = wsi;
        session->post_body.clear();
        return 0;  // the body arrives in on_http_body
    }
    return responder_.respond(wsi, error_response(wsi, kBadRequest, "method"));
}

int EioServer::on_http_body(lws* wsi, WsiState& state, std::string_view chunk) {
    (void)wsi;
    EioSession* session = session_of(state);
    // A refused body is read to its end and dropped.
    if (state.kind != WsiKind::poll_post || session == nullptr) return 0;
    if (session->post_body.size() + chunk.size() > options_.max_payload) {
        log::info("engine.io: {} ({}): closed: POST body over {} bytes", session->sid,
                  session->peer, options_.max_payload);
        session->poll_post = nullptr;
        state = {this, nullptr, WsiKind::post_refused};
        close(*session, "payload too large");
        return 0;  // the rest is read and dropped; on_http_body_done answers 413
    }
    session->post_body.append(chunk);
    return 0;
}

int EioServer::on_http_body_done(lws* wsi, WsiState& state) {
    EioSession* session = session_of(state);
    bool refused = state.kind == WsiKind::post_refused;
    state = {this, nullptr, WsiKind::none};
    HttpResponse ok = HttpResponse::text(200, "ok");
    ok.content_type = "text/html";
    add_cors(wsi, ok);
    if (refused) {
        // Answered only now that the whole body was read: closing with unread
        // data would reset the connection before the client saw the answer.
        HttpResponse too_large = HttpResponse::text(413, "payload too large\n");
        add_cors(wsi, too_large);
        return responder_.respond(wsi, too_large);
    }
    if (session == nullptr) return responder_.respond(wsi, ok);  // the session ended meanwhile
    session->poll_post = nullptr;
    std::string body = std::move(session->post_body);
    std::vector<eio::Packet> packets;
    try {
        packets = eio::decode_payload(body);
    } catch (const ProtocolError& e) {
        protocol_error(*session, e.what());
        return responder_.respond(wsi, error_response(wsi, kBadRequest, e.what()));
    }
    for (const auto& packet : packets) {
        if (session->closed) break;
        handle_packet(*session, packet, false);
    }
    return responder_.respond(wsi, ok);
}

std::string EioServer::drain_payload(EioSession& session) {
    std::string payload;
    while (!session.control.empty()) {
        for (const auto& p : session.control.front()->packets) eio::append_to_payload(payload, p);
        session.control_bytes -= session.control.front()->ws_size();
        session.control.pop_front();
    }
    if (session.stream) {
        while (const OutgoingPtr* item = stream_.take(*session.stream)) {
            for (const auto& p : (*item)->packets) eio::append_to_payload(payload, p);
        }
    }
    return payload;
}

int EioServer::on_http_writeable(lws* wsi, WsiState& state) {
    if (responder_.has_pending(wsi)) return responder_.on_writeable(wsi);
    // The payload is built first and moved into the response once: GCC 12 at
    // -O3 misreads assigning literals to the response's string (-Wrestrict).
    std::string payload;
    if (state.kind == WsiKind::poll_close) {
        payload.push_back('1');  // the close packet, for a session the server ended
    } else if (state.kind == WsiKind::poll_release) {
        payload.push_back('6');  // noop: the client closed the session itself
    } else if (state.kind == WsiKind::poll_get && session_of(state) != nullptr) {
        EioSession& session = *session_of(state);
        if (session.upgrading || session.transport != EioSession::Transport::polling) {
            payload.push_back('6');  // noop: releases the client so it can finish the upgrade
        } else if (has_output(session)) {
            payload = drain_payload(session);
        } else {
            return 0;  // a spare callback: keep waiting
        }
        session.poll_get = nullptr;
    } else {
        return 0;
    }
    state = {this, nullptr, WsiKind::none};
    HttpResponse response = HttpResponse::text(200, std::move(payload));
    add_cors(wsi, response);
    return responder_.respond(wsi, response);
}

void EioServer::on_http_closed(lws* wsi, WsiState& state) {
    responder_.forget(wsi);
    EioSession* session = session_of(state);
    state = {this, nullptr, WsiKind::none};
    if (session == nullptr) return;
    if (session->poll_get == wsi) {
        session->poll_get = nullptr;
        close(*session, "poll connection closed");
    } else if (session->poll_post == wsi) {
        session->poll_post = nullptr;
    }
}

}  // namespace clubvoice
