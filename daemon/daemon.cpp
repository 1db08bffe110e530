#include "daemon.hpp"

#include "config_keys.hpp"
#include "log.hpp"
#include "version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace clubvoice {

Daemon::Daemon(std::string config_path, Config config, int verbosity)
    : config_path_(std::move(config_path)),
      verbosity_(verbosity),
      config_(std::move(config)),
      routes_(config_) {
    apply_log_level();
}

void Daemon::apply_log_level() {
    // -v asks for at least info, -vv for at least debug; log.level may ask for more.
    int wanted = verbosity_ >= 2   ? static_cast<int>(log::Level::debug)
                 : verbosity_ == 1 ? static_cast<int>(log::Level::info)
                                   : 0;
    log::set_level(static_cast<log::Level>(std::max(wanted, static_cast<int>(config_.log.level))));
}

void Daemon::run() {
    log::notice("clubvoiced {} starting: config {}, capture {}, playback {}, mode {}", kVersion,
                config_path_, config_.audio.capture.device, config_.audio.playback.device,
                find_config_key("audio.mode")->show(config_));
    notifier_.status("starting");

    server_ = std::make_unique<HttpServer>(loop_.get(), config_.server,
                                           [this](const HttpRequest& r) { return routes_.handle(r); });
    sigterm_ = watch_signal(loop_.get(), SIGTERM, [this] { stop(); });
    sigint_ = watch_signal(loop_.get(), SIGINT, [this] { stop(); });
    sighup_ = watch_signal(loop_.get(), SIGHUP, [this] { reload(); });
    if (uint64_t ms = notifier_.start_watchdog(loop_.get(), [this] { return !stopping_; })) {
        log::info("systemd watchdog: pinging every {} ms", ms);
    }

    std::string listening = fmt::format("listening on {}:{}", config_.server.host, config_.server.port);
    log::notice("{}, web root {}", listening, config_.web.root);
    notifier_.ready(listening);

    loop_.run();  // returns once stop() has closed our handles and lws has drained
    server_.reset();  // second lws_context_destroy: frees what the first one left
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
        loaded.config.server = config_.server;  // every restart-only key lives in server.*
        config_ = std::move(loaded.config);
        apply_log_level();
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
    if (server_) server_->begin_shutdown();
}

}  // namespace clubvoice
