// The server's figures for /status and /metrics: one table, both places.
#include "internal_errors.hpp"
#include "room_namespace.hpp"

namespace clubvoice {
namespace {

using F = RoomNamespace::Figures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_sessions", MetricType::gauge, "", "/server/sessions", "Open Engine.IO sessions."},
     [](const F& f) { return static_cast<double>(f.sessions); }},
    {{"clubvoice_clients", MetricType::gauge, "", "/server/clients",
      "Socket.IO clients in the room namespace."},
     [](const F& f) { return static_cast<double>(f.clients); }},
    {{"clubvoice_sessions_opened_total", MetricType::counter, "", "/server/sessions_opened",
      "Engine.IO sessions opened."},
     [](const F& f) { return as_metric(f.eio.sessions_opened); }},
    {{"clubvoice_upgrades_total", MetricType::counter, "", "/server/upgrades",
      "Polling sessions upgraded to WebSocket."},
     [](const F& f) { return as_metric(f.eio.upgrades); }},
    {{"clubvoice_protocol_errors_total", MetricType::counter, "", "/server/protocol_errors",
      "Sessions closed for malformed Engine.IO or Socket.IO input."},
     [](const F& f) { return as_metric(f.protocol_errors); }},
    {{"clubvoice_ping_timeouts_total", MetricType::counter, "", "/server/ping_timeouts",
      "Sessions closed because a ping went unanswered."},
     [](const F& f) { return as_metric(f.eio.ping_timeouts); }},
    {{"clubvoice_send_queue_overflows_total", MetricType::counter, "",
      "/server/send_queue_overflows",
      "Sessions closed because they did not take their control packets."},
     [](const F& f) { return as_metric(f.eio.queue_overflows); }},
    {{"clubvoice_lag_disconnects_total", MetricType::counter, "", "/server/lag_disconnects",
      "Listeners closed because they took no audio for too long."},
     [](const F& f) { return as_metric(f.eio.lag_disconnects); }},
    {{"clubvoice_flood_disconnects_total", MetricType::counter, "", "/server/flood_disconnects",
      "Sessions closed for sending more than server.max_messages_per_s."},
     [](const F& f) { return as_metric(f.eio.floods); }},
    {{"clubvoice_stream_drops_total", MetricType::counter, "", "/server/stream_drops",
      "Audio packets skipped for listeners that fell behind."},
     [](const F& f) { return as_metric(f.stream_drops); }},
    {{"clubvoice_invalid_events_total", MetricType::counter, "", "/server/invalid_events",
      "Client events of a wrong shape (answered with an error, or closed)."},
     [](const F& f) { return as_metric(f.room.invalid_events); }},
    {{"clubvoice_unknown_events_total", MetricType::counter, "", "/server/unknown_events",
      "Client events of names this server does not know (ignored)."},
     [](const F& f) { return as_metric(f.room.unknown_events); }},
    {{"clubvoice_invalid_auth_total", MetricType::counter, "", "/server/invalid_auth",
      "Connections refused for a wrong-shaped CONNECT auth payload."},
     [](const F& f) { return as_metric(f.room.invalid_auth); }},
    {{"clubvoice_origin_refused_total", MetricType::counter, "", "/access/origin_refused",
      "Handshakes refused for an Origin that is neither the server's nor in cors_origins."},
     [](const F& f) { return as_metric(f.eio.origin_refused); }},
    {{"clubvoice_refused_server_full_total", MetricType::counter, "", "/access/refused_server_full",
      "Handshakes refused at server.max_clients sessions."},
     [](const F& f) { return as_metric(f.eio.refused_server_full); }},
    {{"clubvoice_refused_address_full_total", MetricType::counter, "",
      "/access/refused_address_full",
      "Handshakes refused at server.max_clients_per_ip sessions from one address."},
     [](const F& f) { return as_metric(f.eio.refused_address_full); }},
    {{"clubvoice_refused_too_fast_total", MetricType::counter, "", "/access/refused_too_fast",
      "Handshakes refused past server.handshakes_per_ip_per_s from one address."},
     [](const F& f) { return as_metric(f.eio.refused_too_fast); }},
    {{"clubvoice_polling_timeouts_total", MetricType::counter, "", "/access/polling_timeouts",
      "Sessions closed for polling longer than server.max_polling_s without upgrading."},
     [](const F& f) { return as_metric(f.eio.polling_timeouts); }},
    {{"clubvoice_invalid_token_total", MetricType::counter, "", "/access/invalid_token",
      "Connections refused for a wrong or unknown token."},
     [](const F& f) { return as_metric(f.room.invalid_token); }},
    {{"clubvoice_token_needed_total", MetricType::counter, "", "/access/token_needed",
      "Connections refused without a token while access.listen is token."},
     [](const F& f) { return as_metric(f.room.token_needed); }},
    {{"clubvoice_talk_refused_role_total", MetricType::counter, "", "/access/talk_refused_role",
      "Talk requests refused because the client's role may not talk (access.talk)."},
     [](const F& f) { return as_metric(f.room.talk_refused); }},
    {{"clubvoice_access_revoked_total", MetricType::counter, "", "/access/revoked",
      "Clients closed because a reload withdrew their access (token removed, listen closed)."},
     [](const F& f) { return as_metric(f.room.revoked); }},
    {{"clubvoice_internal_errors_total", MetricType::counter, "", "/server/internal_errors",
      "Exceptions caught where libwebsockets or libuv call the daemon."},
     [](const F& f) { return as_metric(f.internal_errors); }},
});

}  // namespace

RoomNamespace::Figures RoomNamespace::figures() const {
    const EioServer& eio = server_.eio_server();
    Figures f;
    f.sessions = eio.session_count();
    f.clients = clients();
    f.eio = eio.counters();
    f.protocol_errors = f.eio.protocol_errors + server_.protocol_errors();
    f.stream_drops = eio.stream_drops();
    f.internal_errors = internal_errors();
    f.room = counters_;
    return f;
}

void RoomNamespace::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void RoomNamespace::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

}  // namespace clubvoice
