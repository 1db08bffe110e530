// Music ducking: a voice detector listens to the room as captured, and while
// the room speaks the music goes down (ducking.music.*), through mpv's
// volume when mpv.ipc_socket is set, and otherwise through the music
// input's gain in the mixer (mixer_gain). The decision is made here and only
// here (dsp::MusicDuckState). Thread: loop.
#pragma once

#include "config.hpp"
#include "dsp/music_duck_state.hpp"
#include "metrics.hpp"
#include "mpv_control.hpp"
#include "voice_detector.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace clubvoice {

class MusicDucking {
  public:
    // `config` is the daemon's live configuration (a reload changes it in place).
    MusicDucking(uv_loop_t* loop, const Config& config);

    // One captured room frame (a whole number of 10 ms blocks at 48 kHz,
    // interleaved), before anything lowers it.
    void on_room(std::span<const float> frame, int channels);
    // The configuration changed (reload): settings, and mpv's socket.
    void apply();
    // Gives mpv its normal volume back and lets go of it (daemon stop).
    void stop();

    // Whether mpv.ipc_socket is set, and whether the connection to it is up.
    bool mpv_configured() const { return mpv_ != nullptr; }
    // The envelope as a gain for the music input's mix: 1 while mpv is
    // turned down instead; otherwise (volume / normal volume)^3, the curve
    // of mpv's own volume, so both ways duck by the same amount.
    float mixer_gain() const;
    bool mpv_connected() const { return mpv_ && mpv_->figures().connected; }
    std::string mpv_socket() const { return config_.mpv.ipc_socket; }

    struct Figures {
        bool voice = false, ducked = false;
        double volume = 0.0;  // where the envelope is, in mpv's percent
        std::uint64_t blocks = 0, voice_blocks = 0, ducks = 0;
        bool mpv_configured = false;
        MpvControl::Figures mpv;
    };
    Figures figures() const;
    // The figures under clubvoice_music_* and clubvoice_mpv_* (/status: "music").
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics
    // /status "music": the figures and mpv's socket.
    nlohmann::json status_json() const;

  private:
    dsp::MusicDuckState::Settings settings() const;

    uv_loop_t* loop_;
    const Config& config_;
    VoiceDetector detector_;
    dsp::MusicDuckState state_;
    std::unique_ptr<MpvControl> mpv_;
    bool voice_ = false;
    std::uint64_t blocks_ = 0, voice_blocks_ = 0, ducks_ = 0;
};

}  // namespace clubvoice
