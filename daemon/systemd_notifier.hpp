// Readiness, status and watchdog reports to systemd (sd_notify). Works the
// same with and without NOTIFY_SOCKET: without it every call does nothing.
// Thread: loop.
#pragma once

#include "uv_handles.hpp"

#include <functional>
#include <string_view>

namespace clubvoice {

class SystemdNotifier {
  public:
    // Checks whether the daemon may be called alive; WATCHDOG=1 is sent only
    // while it returns true (the audio thread's heartbeat joins it later).
    using LivenessCheck = std::function<bool()>;

    void ready(std::string_view status);
    void reloading(std::string_view status);
    void stopping(std::string_view status);
    void status(std::string_view status);

    // Starts pinging at half of WATCHDOG_USEC when systemd asked for it.
    // Returns the interval in ms, or 0 when no watchdog is wanted.
    uint64_t start_watchdog(uv_loop_t* loop, LivenessCheck alive);
    void stop_watchdog() { timer_.close(); }

  private:
    void send(std::string_view message);
    UvTimer timer_;
};

}  // namespace clubvoice
