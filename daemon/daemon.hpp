// The running daemon: owns the loop and everything on it, handles signals,
// reloads and the orderly stop. Thread: loop.
#pragma once

#include "config.hpp"
#include "http_routes.hpp"
#include "http_server.hpp"
#include "systemd_notifier.hpp"
#include "uv_handles.hpp"

#include <memory>
#include <string>

namespace clubvoice {

class Daemon {
public:
    Daemon(std::string config_path, Config config, int verbosity);

    // Serves until SIGTERM/SIGINT. Throws std::runtime_error when start-up
    // fails (the message is one line naming what failed).
    void run();

private:
    void apply_log_level();
    void reload();
    void stop();

    std::string config_path_;
    int verbosity_;
    Config config_;

    // Declared first so it is destroyed last: every handle below lives on it.
    UvLoop loop_;
    HttpRoutes routes_;
    SystemdNotifier notifier_;
    std::unique_ptr<HttpServer> server_;
    UvSignal sigterm_;
    UvSignal sigint_;
    UvSignal sighup_;
    bool stopping_ = false;
};

}  // namespace clubvoice
