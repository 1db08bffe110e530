#include "systemd_notifier.hpp"

#include "log.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace clubvoice {

void SystemdNotifier::send(std::string_view message) {
    std::string text(message);
    int rc = sd_notify(0, text.c_str());
    if (rc < 0) log::warning("sd_notify: cannot report to systemd: {}", std::strerror(-rc));
}

void SystemdNotifier::ready(std::string_view status) {
    send(fmt::format("READY=1\nSTATUS={}", status));
}

void SystemdNotifier::reloading(std::string_view status) {
    send(fmt::format("RELOADING=1\nSTATUS={}", status));
}

void SystemdNotifier::stopping(std::string_view status) {
    send(fmt::format("STOPPING=1\nSTATUS={}", status));
}

void SystemdNotifier::status(std::string_view status) {
    send(fmt::format("STATUS={}", status));
}

uint64_t SystemdNotifier::start_watchdog(uv_loop_t* loop, LivenessCheck alive) {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return 0;
    uint64_t interval_ms = std::max<uint64_t>(usec / 2000, 1);
    timer_ = start_timer(loop, interval_ms, interval_ms, [this, alive = std::move(alive)] {
        if (alive()) {
            send("WATCHDOG=1");
        } else {
            log::warning("watchdog: not pinging systemd, the daemon is not alive");
        }
    });
    return interval_ms;
}

}  // namespace clubvoice
