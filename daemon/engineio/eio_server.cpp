#include "eio_server.hpp"

#include "config.hpp"
#include "cors.hpp"
#include "internal_errors.hpp"
#include "log.hpp"
#include "loop_thread.hpp"
#include "lws_request.hpp"
#include "random_id.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include <malloc.h>

namespace clubvoice {
namespace {

constexpr std::string_view kClientClosed = "client closed";

const OutgoingPtr& ping_packet() {
    static const OutgoingPtr packet = make_outgoing({{eio::PacketType::ping, false, ""}});
    return packet;
}

}  // namespace

EioServer::EioServer(uv_loop_t* loop, EioOptions options, EioHandler& handler,
                     HttpResponder& responder)
    : loop_(loop),
      options_(std::move(options)),
      handler_(handler),
      responder_(responder),
      stream_(options_.stream_capacity, options_.stream_lag_close_ms),
      limits_(options_.limits),
      walk_(make_check(loop, [this] { walk_stream(); })),
      walk_idle_(make_idle(loop, [] {})) {}

EioServer::~EioServer() {
    close_all("server stopped");
}

void EioServer::apply(const EioOptions& options) {
    std::string path = options_.path;
    std::size_t capacity = options_.stream_capacity;
    options_ = options;
    options_.path = std::move(path);
    options_.stream_capacity = capacity;
    stream_.set_lag_close_ms(options_.stream_lag_close_ms);
    limits_.set(options_.limits);
}

bool EioServer::owns_path(std::string_view path) const {
    // "/socket.io/" also answers as "/socket.io", as the reference server does.
    std::string_view base = std::string_view(options_.path);
    if (base.ends_with('/')) base.remove_suffix(1);
    return path == base || path.starts_with(options_.path);
}

EioSession* EioServer::find(std::string_view sid) {
    auto it = sessions_.find(std::string(sid));
    return it == sessions_.end() ? nullptr : it->second.get();
}

std::string EioServer::handshake_json(const EioSession& session) const {
    nlohmann::json open = {
        {"sid", session.sid},
        {"upgrades", session.transport == EioSession::Transport::polling
                         ? nlohmann::json::array({"websocket"})
                         : nlohmann::json::array()},
        {"pingInterval", options_.ping_interval_ms},
        {"pingTimeout", options_.ping_timeout_ms},
        {"maxPayload", options_.max_payload},
    };
    return open.dump();
}

std::optional<HttpResponse> EioServer::admit_handshake(lws* wsi, const IpAddress& client) {
    // Every session in the shared limits: ours and the /stream.opus readers.
    const LimitRefusal refusal = limits_.admit(client, limits_.sessions(), uv_now(loop_));
    if (refusal != LimitRefusal::none) {
        const bool too_fast = refusal == LimitRefusal::too_fast;
        ++(refusal == LimitRefusal::server_full ? counters_.refused_server_full
           : too_fast                           ? counters_.refused_too_fast
                                                : counters_.refused_address_full);
        // A client refused for its rate is not worth a line each time.
        if (!too_fast) {
            log::warning("engine.io: refused {}: {}", client.to_string(), to_string(refusal));
        }
        nlohmann::json body = {{"code", 4}, {"message", to_string(refusal)}};
        HttpResponse response =
            HttpResponse::json(refusal == LimitRefusal::server_full ? 503 : 429, body.dump());
        response.headers.emplace_back("retry-after", "1");
        return response;
    }
    auto origin = request_header(wsi, WSI_TOKEN_ORIGIN);
    if (!handshake_origin_allowed(options_.cors_origins, origin,
                                  request_header(wsi, WSI_TOKEN_HOST))) {
        ++counters_.origin_refused;
        log::warning(
            "engine.io: refused {}: Origin {} is not this server's nor in "
            "server.cors_origins",
            client.to_string(), one_line(origin.value_or("")));
        return HttpResponse::json(403, R"({"code":4,"message":"Forbidden"})");
    }
    return std::nullopt;
}

EioSession& EioServer::open_session(lws* wsi, EioSession::Transport transport,
                                    const IpAddress& client) {
    auto owned = std::make_unique<EioSession>();
    EioSession& session = *owned;
    session.sid = random_id();
    session.transport = transport;
    session.client = client;
    session.peer = client.to_string();
    session.bearer = request_bearer(wsi);
    session.opened_ms = uv_now(loop_);
    limits_.opened(client);
    sessions_.emplace(session.sid, std::move(owned));
    ++counters_.sessions_opened;
    log::debug("engine.io: {} opened by {} over {}", session.sid, session.peer,
               transport == EioSession::Transport::polling ? "polling" : "websocket");
    send(session, make_outgoing({{eio::PacketType::open, false, handshake_json(session)}}));
    schedule_ping(session);
    handler_.on_open(session);
    return session;
}

void EioServer::send(EioSession& session, OutgoingPtr packet) {
    assert_on_loop();
    if (session.closed) return;
    session.control_bytes += packet->ws_size();
    session.control.push_back(std::move(packet));
    if (session.control_bytes > options_.max_control_bytes) {
        ++counters_.queue_overflows;
        log::warning("engine.io: {} ({}): closed, {} bytes of control packets not taken",
                     session.sid, session.peer, session.control_bytes);
        close(session, "send queue full");
        return;
    }
    request_write(session);
}

void EioServer::subscribe(EioSession& session) {
    assert_on_loop();
    if (!session.stream) session.stream = stream_.join();
}

void EioServer::unsubscribe(EioSession& session) {
    assert_on_loop();
    if (session.stream) stream_.leave(*session.stream);
    session.stream.reset();
}

std::uint64_t EioServer::stream_drops() const {
    std::uint64_t total = stream_.drops_of_gone();
    for (const auto& [sid, session] : sessions_) {
        if (session->stream) total += stream_.lost(*session->stream);
    }
    return total;
}

bool EioServer::has_output(const EioSession& session) const {
    return !session.control.empty() || (session.stream && stream_.pending(*session.stream));
}

void EioServer::request_write(EioSession& session) {
    if (session.closed) return;
    if (session.transport == EioSession::Transport::websocket) {
        if (session.ws != nullptr && !session.write_requested) {
            session.write_requested = true;
            lws_callback_on_writable(session.ws);
        }
    } else if (session.poll_get != nullptr && (has_output(session) || session.upgrading)) {
        lws_callback_on_writable(session.poll_get);
    }
}

void EioServer::schedule_ping(EioSession& session) {
    session.awaiting_pong = false;
    auto delay = static_cast<std::uint64_t>(options_.ping_interval_ms);
    if (!session.heartbeat) {
        session.heartbeat =
            start_timer(loop_, delay, 0, [this, s = &session] { on_heartbeat(*s); });
    } else {
        restart_timer(session.heartbeat, delay);
    }
}

void EioServer::on_heartbeat(EioSession& session) {
    if (session.transport == EioSession::Transport::polling && !session.upgrading &&
        uv_now(loop_) - session.opened_ms > options_.max_polling_ms) {
        ++counters_.polling_timeouts;
        log::info(
            "engine.io: {} ({}): closed: polled for {} s without upgrading "
            "(server.max_polling_s)",
            session.sid, session.peer, options_.max_polling_ms / 1000);
        close(session, "polling too long");
        return;
    }
    if (session.awaiting_pong) {
        ++counters_.ping_timeouts;
        log::info("engine.io: {} ({}): ping timeout", session.sid, session.peer);
        close(session, "ping timeout");
        return;
    }
    session.awaiting_pong = true;
    send(session, ping_packet());
    if (!session.closed) {
        restart_timer(session.heartbeat, static_cast<std::uint64_t>(options_.ping_timeout_ms));
    }
}

bool EioServer::within_budget(EioSession& session) {
    const auto rate = static_cast<double>(options_.max_messages_per_s);
    const std::uint64_t now = uv_now(loop_);
    if (session.message_budget < 0) {
        session.message_budget = 2 * rate;
    } else {
        const auto elapsed_s = static_cast<double>(now - session.budget_at_ms) / 1000.0;
        session.message_budget = std::min(2 * rate, session.message_budget + elapsed_s * rate);
    }
    session.budget_at_ms = now;
    session.message_budget -= 1.0;
    if (session.message_budget >= 0) return true;
    ++counters_.floods;
    log::warning("engine.io: {} ({}): closed: more than {} messages a second", session.sid,
                 session.peer, options_.max_messages_per_s);
    close(session, "message flood");
    return false;
}

void EioServer::handle_packet(EioSession& session, const eio::Packet& packet, bool via_ws) {
    using eio::PacketType;
    if (!within_budget(session)) return;
    switch (packet.type) {
        case PacketType::message:
            handler_.on_message(session, packet);
            break;
        case PacketType::pong:
            if (session.awaiting_pong) schedule_ping(session);
            break;
        case PacketType::ping:
            // In v4 only the upgrade probe is a client ping.
            if (via_ws && packet.data == "probe" &&
                session.transport == EioSession::Transport::polling && !session.upgrading) {
                session.upgrading = true;
                session.probe_reply_due = true;
                lws_callback_on_writable(session.ws);
                if (session.poll_get != nullptr) lws_callback_on_writable(session.poll_get);
            } else {
                protocol_error(session, "unexpected ping");
            }
            break;
        case PacketType::upgrade:
            if (!via_ws || !session.upgrading) {
                protocol_error(session, "unexpected upgrade");
                break;
            }
            session.upgrading = false;
            session.transport = EioSession::Transport::websocket;
            ++counters_.upgrades;
            log::debug("engine.io: {} upgraded to websocket", session.sid);
            if (session.poll_get != nullptr) {
                // Release the pending GET: the client no longer polls.
                lws_callback_on_writable(session.poll_get);
            }
            request_write(session);
            break;
        case PacketType::close:
            close(session, kClientClosed);
            break;
        case PacketType::noop:
            break;
        case PacketType::open:
            protocol_error(session, "unexpected open");
            break;
    }
}

void EioServer::protocol_error(EioSession& session, std::string_view what) {
    ++counters_.protocol_errors;
    log::info("engine.io: {} ({}): closed: {}", session.sid, session.peer, what);
    close(session, what);
}

void EioServer::close(EioSession& session, std::string_view reason) {
    assert_on_loop();
    if (session.closed) return;
    session.closed = true;
    limits_.closed(session.client);
    const bool client_closed = reason == kClientClosed;
    log::debug("engine.io: {} closed: {}", session.sid, reason);
    // The transport must be released whatever the layer above does.
    run_guarded(session.sid, [&] { handler_.on_close(session, reason); });
    unsubscribe(session);
    leave_walk(session);
    session.heartbeat.close();
    if (session.ws != nullptr) {
        // A connection without a session closes at its next writeable callback,
        // with a close frame.
        auto* state = static_cast<WsiState*>(lws_wsi_user(session.ws));
        if (state != nullptr) state->session = nullptr;
        lws_close_reason(session.ws, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
        lws_callback_on_writable(session.ws);
        session.ws = nullptr;
    }
    if (session.poll_get != nullptr) {
        // The waiting GET is released: with a noop when the client itself
        // closed, with the close packet when the server ends the session.
        auto* state = static_cast<WsiState*>(lws_wsi_user(session.poll_get));
        if (state != nullptr) {
            state->session = nullptr;
            state->kind = client_closed ? WsiKind::poll_release : WsiKind::poll_close;
        }
        lws_callback_on_writable(session.poll_get);
        session.poll_get = nullptr;
    }
    if (session.poll_post != nullptr) {
        auto* state = static_cast<WsiState*>(lws_wsi_user(session.poll_post));
        if (state != nullptr) state->session = nullptr;
        session.poll_post = nullptr;
    }
    bury(session);
}

void EioServer::bury(EioSession& session) {
    auto it = sessions_.find(session.sid);
    if (it == sessions_.end()) return;
    dead_.push_back(std::move(it->second));
    sessions_.erase(it);
    if (!reaper_) {
        reaper_ = start_timer(loop_, 0, 0, [this] {
            freed_since_trim_ += dead_.size();
            dead_.clear();
            reaper_.close();
            // After a wave of closed sessions (a crowd leaving, a flood of
            // half-open ones) hand the freed heap back to the system.
            if (freed_since_trim_ >= 1024 && sessions_.size() < freed_since_trim_) {
                malloc_trim(0);
                freed_since_trim_ = 0;
            }
        });
    }
}

void EioServer::on_callback_error(WsiState& state, int lws_reason) noexcept {
    EioSession* session = session_of(state);
    try {
        report_current_exception(
            session != nullptr ? fmt::format("session {} ({}), lws reason {}", session->sid,
                                             session->peer, lws_reason)
                               : fmt::format("an Engine.IO request, lws reason {}", lws_reason));
        if (session != nullptr) close(*session, "internal error");
    } catch (...) {
        report_internal_error("closing a session after an internal error", "failed");
    }
}

void EioServer::close_all(std::string_view reason) {
    while (!sessions_.empty()) close(*sessions_.begin()->second, reason);
    dead_.clear();
    reaper_.close();
    walk_.close();
    walk_idle_.close();
}

}  // namespace clubvoice
