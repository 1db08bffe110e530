#include "daemon.hpp"

#include "config_keys.hpp"
#include "internal_errors.hpp"
#include "log.hpp"
#include "loop_thread.hpp"
#include "metrics.hpp"
#include "version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace clubvoice {

Daemon::Daemon(std::string config_path, Config config, int verbosity)
    : config_path_(std::move(config_path)),
      verbosity_(verbosity),
      config_(std::move(config)),
      access_(config_.access),
      routes_(config_, access_, status_sources()) {
    apply_log_level();
}

void Daemon::apply_log_level() {
    // -v asks for at least info, -vv for at least debug; log.level may ask for more.
    int wanted = verbosity_ >= 2   ? static_cast<int>(log::Level::debug)
                 : verbosity_ == 1 ? static_cast<int>(log::Level::info)
                                   : 0;
    log::set_level(static_cast<log::Level>(std::max(wanted, static_cast<int>(config_.log.level))));
}

bool Daemon::alive() {
    // The loop runs (this is called from its timer) and the audio thread moves.
    if (stopping_) return false;
    std::uint64_t beat = audio_ ? audio_->heartbeat() : 0;
    bool moved = !audio_ || beat != last_heartbeat_;
    last_heartbeat_ = beat;
    return moved;
}

ClusterTalkFigures Daemon::cluster_talk_figures() const {
    if (edge_talk_) return edge_talk_->figures();
    if (origin_talk_) return origin_talk_->figures();
    return {};
}

StatusSources Daemon::status_sources() {
    StatusSources sources;
    sources.status = [this](nlohmann::json& status) {
        if (!sio_) return;
        StatusWriter figures(status);
        room_->report(figures);
        if (stream_) stream_->report(figures);
        if (recorder_) recorder_->report_status(status);
        if (icecast_) icecast_->report_status(status);
        if (cluster_) cluster_->report_status(status);
        report_cluster_talk(cluster_talk_figures(), figures);
        if (loop_monitor_) loop_monitor_->passes().report(figures);
        if (audio_) status["audio"].update(audio_->status_json());
        if (talk_) status["talk"] = talk_->status_json();
        if (music_) status["music"] = music_->status_json();
    };
    sources.metrics = [this](std::string& out) {
        if (!sio_) return;
        PrometheusWriter figures(out);
        room_->report(figures);
        if (stream_) stream_->report(figures);
        if (recorder_) recorder_->report(figures);
        if (icecast_) icecast_->report(figures);
        if (cluster_) cluster_->report(figures);
        report_cluster_talk(cluster_talk_figures(), figures);
        if (loop_monitor_) loop_monitor_->passes().report(figures);
        if (audio_) audio_->report(figures);
        if (talk_) talk_->report(figures);
        if (music_) music_->report(figures);
    };
    sources.health = [this](nlohmann::json& health) {
        const bool cluster_down = cluster_ && !cluster_->up();
        if (cluster_ && cluster_->role() != ClusterRole::standalone) {
            health["cluster"] = cluster_->problem();
        }
        if (cluster_ && cluster_->role() == ClusterRole::edge) {
            // An edge's listeners hear nothing without Redis and the origin.
            if (cluster_down) health["status"] = "down";
            return;
        }
        if (!audio_) return;
        health["capture"] = audio_->capture_up() ? "up" : audio_->capture_problem();
        health["playback"] = audio_->playback_up() ? "up" : audio_->playback_problem();
        const bool mpv_down = music_ && music_->mpv_configured() && !music_->mpv_connected();
        const bool music_down = audio_->music_configured() && !audio_->music_up();
        if (audio_->music_configured()) {
            health["music"] = music_down ? audio_->music_problem() : "up";
        }
        if (music_ && music_->mpv_configured()) {
            health["mpv"] = mpv_down ? "down: not connected to " + music_->mpv_socket() : "up";
        }
        const bool record_down = recorder_ && recorder_->state() == Recorder::State::down;
        if (recorder_ && recorder_->state() != Recorder::State::off) {
            health["record"] = record_down ? recorder_->problem() : "up";
        }
        const bool icecast_down = icecast_ && icecast_->enabled() && !icecast_->up();
        if (icecast_ && icecast_->enabled()) health["icecast"] = icecast_->problem();
        // No capture: listeners get nothing. No playback: talkers go unheard.
        // No music input or no mpv: the music is missing or not ducked.
        // Recording failing: the room is not kept. Icecast away: its
        // audience hears nothing. Redis away from an origin: the edges'
        // listeners hear nothing.
        if (!audio_->capture_up()) {
            health["status"] = "down";
        } else if (!audio_->playback_up() || mpv_down || music_down || record_down ||
                   icecast_down || cluster_down) {
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
    options.engine.trusted_proxies = trusted_proxies();
    options.engine.limits = {static_cast<std::size_t>(config_.server.max_clients),
                             static_cast<std::size_t>(config_.server.max_clients_per_ip),
                             static_cast<double>(config_.server.handshakes_per_ip_per_s)};
    options.engine.max_polling_ms = static_cast<std::uint64_t>(config_.server.max_polling_s) * 1000;
    options.connect_timeout_ms = config_.server.connect_timeout_ms;
    return options;
}

std::vector<IpNetwork> Daemon::trusted_proxies() const {
    std::vector<IpNetwork> networks;
    for (const auto& text : config_.server.trusted_proxies) {
        if (auto network = IpNetwork::parse(text)) networks.push_back(*network);  // checked on load
    }
    return networks;
}

void Daemon::run() {
    bind_loop_thread();  // from here on, loop-only methods check who calls them
    // A peer that goes away (mpv's socket, an Icecast server) must be an
    // EPIPE for the code that writes to it, not the end of the process:
    // lws sends with MSG_NOSIGNAL, libuv's pipes and libshout do not.
    (void)std::signal(SIGPIPE, SIG_IGN);
    if (config_.cluster.role == ClusterRole::edge) {
        log::notice(
            "clubvoiced {} starting: config {}, edge of room \"{}\" through {}, no sound card",
            kVersion, config_path_, config_.cluster.room, config_.cluster.redis_url);
    } else {
        log::notice("clubvoiced {} starting: config {}, capture {}, playback {}, mode {}", kVersion,
                    config_path_, config_.audio.capture.device, config_.audio.playback.device,
                    to_string(config_.audio.mode));
    }
    notifier_.status("starting");

    // The listening socket first: when the port is taken or the certificate
    // unusable, the start-up ends here with one line, before any other part
    // has put a handle on the loop (WebServer runs the loop to tear down).
    web_ = std::make_unique<WebServer>(
        loop_.get(), config_.server, [this](const HttpRequest& r) { return routes_.handle(r); },
        responder_);
    loop_monitor_ = std::make_unique<LoopMonitor>(loop_.get(), frame_ns());
    sio_ = std::make_unique<SioServer>(loop_.get(), sio_options(), responder_);
    audience_ = std::make_unique<Audience>(*sio_);
    stream_ = std::make_unique<HttpStream>(loop_.get(), config_, access_,
                                           sio_->eio_server().limits(), responder_);
    stream_->set_trusted_proxies(trusted_proxies());
    recorder_ = std::make_unique<Recorder>(config_);
    icecast_ = std::make_unique<IcecastSource>(loop_.get(), config_);
    const bool edge = config_.cluster.role == ClusterRole::edge;
    cluster_ = std::make_unique<ClusterLink>(
        loop_.get(), config_,
        [this](const EncodedFrame& f, int channels) { publish_frame(f, channels); });
    // Each frame encoded once, for the Socket.IO listeners, the HTTP stream,
    // the recordings, Icecast and the edges. An edge has no sound card: its
    // frames come from the origin through the cluster link.
    if (!edge) {
        audio_ = std::make_unique<AudioEngine>(loop_.get(), config_, [this](const EncodedFrame& f) {
            publish_frame(f, audio_->channels());
        });
    }
    // The talk mixer's thread runs only while audio_ exists (started after
    // it, stopped before it goes) and holds its lock while the engine restarts.
    talk_ = std::make_unique<TalkService>(loop_.get(), *sio_, config_, *audience_,
                                          audio_ ? audio_->playback_out() : PlaybackOut{},
                                          [this](bool loud) {
                                              if (audio_) audio_->set_room_ducked(loud);
                                          });
    room_ = std::make_unique<RoomNamespace>(
        loop_.get(), *sio_, config_, access_, *audience_, *talk_,
        [this] { return audio_ ? audio_->capture_level_dbfs() : -120.0F; },
        [this] { return audio_ ? audio_->music_level_dbfs() : -120.0F; });
    // In a cluster the origin's floor and mixer are the room's: an edge
    // relays its talkers there.
    if (edge) {
        edge_talk_ = std::make_unique<EdgeTalk>(loop_.get(), config_, *sio_, *audience_, *cluster_);
        talk_->set_relay(edge_talk_.get());
    } else if (config_.cluster.role == ClusterRole::origin) {
        origin_talk_ = std::make_unique<OriginTalk>(loop_.get(), config_, *talk_, *cluster_);
    }
    cluster_->set_clients([this] { return room_->clients(); },
                          [this](std::size_t others) { room_->set_remote_clients(others); });
    web_->set_trusted_proxies(trusted_proxies());
    web_->add_handler(sio_->eio_server());
    web_->add_handler(*stream_);
    music_ = std::make_unique<MusicDucking>(loop_.get(), config_);
    if (audio_) {
        audio_->set_room_listener([this](std::span<const float> frame, int channels) {
            music_->on_room(frame, channels);
            audio_->set_music_envelope(music_->mixer_gain());  // ducking in the mixer, without mpv
        });
        audio_->start();
        talk_->start_mixer();
    }
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
    recorder_.reset();  // its writer thread writes what is queued, then ends
    icecast_.reset();
    log::notice("stopped");
}

void Daemon::publish_frame(const EncodedFrame& frame, int channels) {
    cluster_->publish(frame, channels);  // an origin's, to the edges: first, they have a hop more
    audience_->publish(frame);
    stream_->publish(frame.opus, channels);
    recorder_->publish(frame.opus, channels);
    icecast_->publish(frame.opus, channels);
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
        access_ = AccessPolicy(config_.access);
        apply_log_level();
        if (web_) web_->set_trusted_proxies(trusted_proxies());
        if (stream_) stream_->set_trusted_proxies(trusted_proxies());
        if (loop_monitor_) loop_monitor_->set_frame(frame_ns());
        if (sio_) sio_->apply(sio_options());
        if (audio_) {
            auto paused = talk_->pause_output();  // the engine may restart its thread
            audio_->apply(config_);
        }
        if (talk_) talk_->apply();
        if (music_) music_->apply();
        if (room_) room_->config_changed();
        if (stream_) stream_->config_changed();
        if (recorder_) recorder_->config_changed();
        if (icecast_) icecast_->config_changed();
        if (web_) {  // renewed files at the same paths; a bad pair is refused on its own
            const CertificateReload tls = web_->reload_certificate(config_.server);
            if (!tls.message.empty()) log::at(tls.level, "{}", tls.message);
        }
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
    if (music_) music_->stop();  // mpv gets its normal volume back
    if (sio_) sio_->close_all();
    if (stream_) stream_->close_all();
    if (recorder_) recorder_->stop();  // the current file ends with its end-of-stream page
    if (icecast_) icecast_->stop();
    if (edge_talk_) edge_talk_->stop();
    if (origin_talk_) origin_talk_->stop();
    if (cluster_) cluster_->stop();
    if (web_) web_->begin_shutdown();
}

void describe_metrics(MetricWriter& out) {
    HttpRoutes::report(out);
    RoomNamespace::describe_metrics(out);
    HttpStream::describe_metrics(out);
    Recorder::describe_metrics(out);
    IcecastSource::describe_metrics(out);
    ClusterLink::describe_metrics(out);
    describe_cluster_talk(out);
    PassTimer().report(out);
    AudioEngine::describe_metrics(out);
    TalkService::describe_metrics(out);
    MusicDucking::describe_metrics(out);
}

}  // namespace clubvoice
