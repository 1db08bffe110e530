#include "daemon.hpp"

#include "config_keys.hpp"
#include "internal_errors.hpp"
#include "log.hpp"
#include "prometheus.hpp"
#include "version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace clubvoice {

Daemon::Daemon(std::string config_path, Config config, int verbosity)
    : config_path_(std::move(config_path)),
      verbosity_(verbosity),
      config_(std::move(config)),
      routes_(config_, status_sources()) {
    apply_log_level();
}

void Daemon::apply_log_level() {
    // -v asks for at least info, -vv for at least debug; log.level may ask for more.
    int wanted = verbosity_ >= 2   ? static_cast<int>(log::Level::debug)
                 : verbosity_ == 1 ? static_cast<int>(log::Level::info)
                                   : 0;
    log::set_level(static_cast<log::Level>(std::max(wanted, static_cast<int>(config_.log.level))));
}

void Daemon::publish_frame(const EncodedFrame& frame) {
    // Encoded once, framed once: every listener's session takes a reference
    // from the engine's stream ring.
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(frame.opus.data());
    sio::Packet packet{sio::PacketType::event, "/", std::nullopt,
                       nlohmann::json::array({"audio",
                                              {{"seq", frame.seq}, {"t", frame.capture_ms}},
                                              nlohmann::json::binary(std::vector<std::uint8_t>(
                                                  bytes, bytes + frame.opus.size()))})};
    sio_->eio_server().publish(make_outgoing(packet, true));
}

bool Daemon::alive() {
    // The loop runs (this is called from its timer) and the audio thread moves.
    if (stopping_) return false;
    std::uint64_t beat = audio_ ? audio_->heartbeat() : 0;
    bool moved = !audio_ || beat != last_heartbeat_;
    last_heartbeat_ = beat;
    return moved;
}

StatusSources Daemon::status_sources() {
    StatusSources sources;
    sources.status = [this](nlohmann::json& status) {
        if (!sio_) return;
        const EioServer& engine = sio_->eio_server();
        const EioCounters& c = engine.counters();
        auto& server = status["server"];
        server["sessions"] = engine.session_count();
        server["clients"] = room_->clients();
        server["sessions_opened"] = c.sessions_opened;
        server["upgrades"] = c.upgrades;
        server["protocol_errors"] = c.protocol_errors + sio_->protocol_errors();
        server["ping_timeouts"] = c.ping_timeouts;
        server["send_queue_overflows"] = c.queue_overflows;
        server["lag_disconnects"] = c.lag_disconnects;
        server["flood_disconnects"] = c.floods;
        server["stream_drops"] = engine.stream_drops();
        server["invalid_events"] = room_->counters().invalid_events;
        server["unknown_events"] = room_->counters().unknown_events;
        server["invalid_auth"] = room_->counters().invalid_auth;
        server["internal_errors"] = internal_errors();
        if (loop_monitor_) {
            const PassTimer& p = loop_monitor_->passes();
            status["loop"] = {{"passes", p.passes()},
                              {"busy_s", p.busy_seconds()},
                              {"longest_pass_last_s_ms", p.longest_last_second_ms()},
                              {"longest_pass_ms", p.longest_ms()},
                              {"passes_over_frame", p.over_budget()}};
        }
        if (audio_) status["audio"].update(audio_->status_json());
        if (talk_) status["talk"] = talk_->status_json();
    };
    sources.metrics = [this](std::string& out) {
        if (!sio_) return;
        const EioServer& engine = sio_->eio_server();
        const EioCounters& c = engine.counters();
        auto n = [](auto v) { return static_cast<double>(v); };
        append_metric(out, "clubvoice_sessions", MetricType::gauge, "Open Engine.IO sessions.",
                      n(engine.session_count()));
        append_metric(out, "clubvoice_clients", MetricType::gauge,
                      "Socket.IO clients in the room namespace.", n(room_->clients()));
        append_metric(out, "clubvoice_sessions_opened_total", MetricType::counter,
                      "Engine.IO sessions opened.", n(c.sessions_opened));
        append_metric(out, "clubvoice_upgrades_total", MetricType::counter,
                      "Polling sessions upgraded to WebSocket.", n(c.upgrades));
        append_metric(out, "clubvoice_protocol_errors_total", MetricType::counter,
                      "Sessions closed for malformed Engine.IO or Socket.IO input.",
                      n(c.protocol_errors + sio_->protocol_errors()));
        append_metric(out, "clubvoice_ping_timeouts_total", MetricType::counter,
                      "Sessions closed because a ping went unanswered.", n(c.ping_timeouts));
        append_metric(out, "clubvoice_send_queue_overflows_total", MetricType::counter,
                      "Sessions closed because they did not take their control packets.",
                      n(c.queue_overflows));
        append_metric(out, "clubvoice_lag_disconnects_total", MetricType::counter,
                      "Listeners closed because they took no audio for too long.",
                      n(c.lag_disconnects));
        append_metric(out, "clubvoice_flood_disconnects_total", MetricType::counter,
                      "Sessions closed for sending more than server.max_messages_per_s.",
                      n(c.floods));
        append_metric(out, "clubvoice_stream_drops_total", MetricType::counter,
                      "Audio packets skipped for listeners that fell behind.",
                      n(engine.stream_drops()));
        append_metric(out, "clubvoice_invalid_events_total", MetricType::counter,
                      "Client events of a wrong shape (answered with an error, or closed).",
                      n(room_->counters().invalid_events));
        append_metric(out, "clubvoice_unknown_events_total", MetricType::counter,
                      "Client events of names this server does not know (ignored).",
                      n(room_->counters().unknown_events));
        append_metric(out, "clubvoice_invalid_auth_total", MetricType::counter,
                      "Connections refused for a wrong-shaped CONNECT auth payload.",
                      n(room_->counters().invalid_auth));
        append_metric(out, "clubvoice_internal_errors_total", MetricType::counter,
                      "Exceptions caught where libwebsockets or libuv call the daemon.",
                      n(internal_errors()));
        if (loop_monitor_) loop_monitor_->passes().append_metrics(out, "clubvoice_loop");
        if (audio_) audio_->append_metrics(out);
        if (talk_) talk_->append_metrics(out);
    };
    sources.health = [this](nlohmann::json& health) {
        if (!audio_) return;
        health["capture"] = audio_->capture_up() ? "up" : audio_->capture_problem();
        health["playback"] = audio_->playback_up() ? "up" : audio_->playback_problem();
        // No capture: listeners get nothing. No playback: talkers go unheard.
        if (!audio_->capture_up()) {
            health["status"] = "down";
        } else if (!audio_->playback_up()) {
            health["status"] = "degraded";
        }
    };
    return sources;
}

std::int64_t Daemon::frame_ns() const {
    return std::int64_t{config_.audio.frame_ms} * 1'000'000;
}

SioOptions Daemon::sio_options() const {
    SioOptions options;
    options.engine.path = "/socket.io/";
    options.engine.ping_interval_ms = config_.server.ping_interval_ms;
    options.engine.ping_timeout_ms = config_.server.ping_timeout_ms;
    options.engine.max_payload = static_cast<std::size_t>(config_.server.max_payload_bytes);
    options.engine.max_messages_per_s = config_.server.max_messages_per_s;
    options.engine.cors_origins = config_.server.cors_origins;
    options.connect_timeout_ms = config_.server.connect_timeout_ms;
    return options;
}

void Daemon::run() {
    log::notice("clubvoiced {} starting: config {}, capture {}, playback {}, mode {}", kVersion,
                config_path_, config_.audio.capture.device, config_.audio.playback.device,
                to_string(config_.audio.mode));
    notifier_.status("starting");

    loop_monitor_ = std::make_unique<LoopMonitor>(loop_.get(), frame_ns());
    sio_ = std::make_unique<SioServer>(loop_.get(), sio_options(), responder_);
    // Called on the talk mixer's thread, which runs only while audio_ exists
    // and holds its lock while the engine restarts.
    PlaybackOut playback{
        [this] { return audio_->playback_queued(); },
        [this](std::span<const float> mix) { return audio_->play(mix); },
        [this](bool active) { audio_->set_talkers_playing(active); },
    };
    talk_ = std::make_unique<TalkService>(loop_.get(), *sio_, config_, std::move(playback),
                                          [this](bool loud) {
                                              if (audio_) audio_->set_room_ducked(loud);
                                          });
    room_ = std::make_unique<RoomNamespace>(loop_.get(), *sio_, config_, *talk_, [this] {
        return audio_ ? audio_->capture_level_dbfs() : -120.0F;
    });
    web_ = std::make_unique<WebServer>(
        loop_.get(), config_.server, [this](const HttpRequest& r) { return routes_.handle(r); },
        responder_);
    web_->add_handler(sio_->eio_server());
    audio_ = std::make_unique<AudioEngine>(loop_.get(), config_,
                                           [this](const EncodedFrame& f) { publish_frame(f); });
    audio_->start();
    talk_->start_mixer();
    sigterm_ = watch_signal(loop_.get(), SIGTERM, [this] { stop(); });
    sigint_ = watch_signal(loop_.get(), SIGINT, [this] { stop(); });
    sighup_ = watch_signal(loop_.get(), SIGHUP, [this] { reload(); });
    if (uint64_t ms = notifier_.start_watchdog(loop_.get(), [this] { return alive(); })) {
        log::info("systemd watchdog: pinging every {} ms", ms);
    }

    std::string listening =
        fmt::format("listening on {}:{}", config_.server.host, config_.server.port);
    log::notice("{}, web root {}", listening, config_.web.root);
    notifier_.ready(listening);

    loop_.run();   // returns once stop() has closed our handles and lws has drained
    web_.reset();  // second lws_context_destroy: frees what the first one left
    talk_->stop_mixer();
    audio_.reset();
    log::notice("stopped");
}

void Daemon::reload() {
    notifier_.reloading(fmt::format("reloading {}", config_path_));
    try {
        LoadedConfig loaded = load_config_file(config_path_);
        for (const auto& warning : loaded.warnings) log::warning("{}", warning);
        for (const auto& key : config_keys()) {
            if (key.needs_restart && key.show(loaded.config) != key.show(config_)) {
                log::warning("{}: {}: changed to {}, takes effect at the next restart (still {})",
                             config_path_, key.path, key.show(loaded.config), key.show(config_));
            }
        }
        // Restart-only keys keep their running values; every other key applies.
        for (const auto& key : config_keys()) {
            if (key.needs_restart) key.copy(config_, loaded.config);
        }
        config_ = std::move(loaded.config);
        apply_log_level();
        if (loop_monitor_) loop_monitor_->set_frame(frame_ns());
        if (sio_) sio_->apply(sio_options());
        if (audio_) {
            auto paused = talk_->pause_output();  // the engine may restart its thread
            audio_->apply(config_);
        }
        if (talk_) talk_->apply();
        if (room_) room_->config_changed();
        log::notice("reloaded {}", config_path_);
        notifier_.ready(fmt::format("reloaded {}", config_path_));
    } catch (const ConfigError& e) {
        log::error("reload refused, keeping the running configuration: {}", e.what());
        notifier_.ready(fmt::format("reload refused: {}", e.what()));
    }
}

void Daemon::stop() {
    if (stopping_) return;
    stopping_ = true;
    log::notice("stopping");
    notifier_.stopping("stopping");
    notifier_.stop_watchdog();
    sigterm_.close();
    sigint_.close();
    sighup_.close();
    if (loop_monitor_) loop_monitor_->stop();
    if (talk_) talk_->stop_mixer();  // before the playback ring it feeds goes
    if (audio_) audio_->stop();
    if (sio_) sio_->close_all();
    if (web_) web_->begin_shutdown();
}

}  // namespace clubvoice
