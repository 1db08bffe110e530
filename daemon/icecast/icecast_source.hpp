// icecast.*: the room pushed to an Icecast mount as a source, so that
// Icecast (and its relays) can serve audiences larger than one box. It
// carries the Opus packets the audio engine already encoded (no second
// encoder) in the same Ogg Opus form as /stream.opus; IcecastSender's thread
// does the network work. This side hands it the packets, restarts it when a
// reload changes icecast.*, logs what changes (connected, down and why) and
// reports the state to /health, /status and /metrics. Thread: loop.
#pragma once

#include "config.hpp"
#include "icecast_sender.hpp"
#include "metrics.hpp"
#include "uv_handles.hpp"

#include <uv.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace clubvoice {

class IcecastSource {
  public:
    // `config` is the daemon's live one (a reload changes it in place).
    IcecastSource(uv_loop_t* loop, const Config& config);
    ~IcecastSource();
    IcecastSource(const IcecastSource&) = delete;
    IcecastSource& operator=(const IcecastSource&) = delete;

    // One encoded Opus packet of `channels` channels (the audio engine's frame).
    void publish(std::string_view opus, int channels);
    // After a reload: starts, stops or reconnects for changed icecast.* keys.
    void config_changed();
    // Closes the connection, for shutdown; later packets are ignored.
    void stop();

    bool enabled() const { return sender_ != nullptr; }
    bool up() const;
    // "down: connection lost (Socket error)" or "connecting", while not up.
    std::string problem() const;

    struct Figures {
        bool enabled = false;
        bool up = false;
        std::uint64_t connects = 0, failures = 0, pages = 0, bytes = 0, dropped = 0;
        std::uint64_t server_queue = 0;
    };
    Figures figures() const;
    // clubvoice_icecast_* (/status: "icecast", with its state, mount and problem).
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics
    void report_status(nlohmann::json& status) const;

  private:
    void start();
    void retire_sender();
    void watch();  // logs the sender's changes of state

    const Config& config_;
    Config::Icecast applied_;  // the settings the sender runs with
    std::string where_;        // the mount's URL, for log lines and /status
    std::unique_ptr<IcecastSender> sender_;
    std::uint64_t seen_changes_ = 0;
    std::string last_problem_;  // the failure last logged as a warning
    Figures earlier_;           // what the senders before this one counted
    std::uint64_t dropped_ = 0;
    bool stopped_ = false;
    UvTimer watch_timer_;
};

}  // namespace clubvoice
