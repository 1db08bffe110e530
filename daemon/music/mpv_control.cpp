#include "mpv_control.hpp"

#include "log.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace clubvoice {
namespace {

constexpr std::uint64_t kFirstBackoffMs = 250;
constexpr std::uint64_t kMaxBackoffMs = 5000;

}  // namespace

MpvControl::MpvControl(uv_loop_t* loop, std::string socket_path)
    : loop_(loop),
      path_(std::move(socket_path)),
      client_(loop, UvPipeClient::Events{[this] { on_connected(); },
                                         [this](std::string_view d) { on_received(d); },
                                         [this](int status) { on_lost(status); }}),
      backoff_ms_(kFirstBackoffMs) {
    connect();
}

void MpvControl::connect() {
    retry_.close();
    client_.connect(path_);
}

void MpvControl::on_connected() {
    ++figures_.connects;
    figures_.connected = true;
    backoff_ms_ = kFirstBackoffMs;
    replies_.clear();
    if (reported_down_ || figures_.connects == 1) {
        log::notice("mpv: connected to {}", path_);
    }
    reported_down_ = false;
    figures_.volume = -1;  // a restarted mpv has its own volume again
    send_volume();
}

void MpvControl::on_lost(int status) {
    const bool was_connected = figures_.connected;
    figures_.connected = false;
    if (stopped_) return;
    if (!reported_down_) {
        // One line per outage, however many tries it takes.
        log::warning("mpv: {} {}: {}; the music is not ducked until it is back (retrying)",
                     was_connected ? "lost the connection to" : "cannot connect to", path_,
                     uv_strerror(status));
        reported_down_ = true;
    }
    retry_ = start_timer(loop_, backoff_ms_, 0, [this] { connect(); });
    backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

void MpvControl::on_received(std::string_view data) {
    const std::uint64_t refused = replies_.feed(data);
    if (refused > 0 && figures_.errors == 0) {
        log::warning("mpv: a volume command was refused: {}", replies_.last_error());
    }
    figures_.errors += refused;
}

void MpvControl::set_volume(double percent) {
    wanted_ = static_cast<int>(std::lround(std::clamp(percent, 0.0, 1000.0)));
    send_volume();
}

void MpvControl::send_volume() {
    if (wanted_ < 0 || wanted_ == figures_.volume || !client_.connected()) return;
    nlohmann::json command = {{"command", {"set_property", "volume", wanted_}},
                              {"request_id", ++request_id_}};
    if (client_.write(command.dump() + "\n")) {
        figures_.volume = wanted_;
        ++figures_.volume_commands;
    }
}

void MpvControl::stop(double percent) {
    set_volume(percent);
    stopped_ = true;
    retry_.close();
    client_.finish();
    figures_.connected = false;
}

}  // namespace clubvoice
