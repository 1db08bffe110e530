#include "music_ducking.hpp"

#include "log.hpp"

namespace clubvoice {
namespace {

using F = MusicDucking::Figures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_music_room_voice", MetricType::gauge, "bool", "/music/room_voice",
      "1 while the voice detector hears a voice in the room (its last 10 ms block)."},
     [](const F& f) { return f.voice ? 1.0 : 0.0; }},
    {{"clubvoice_music_ducked", MetricType::gauge, "bool", "/music/ducked",
      "1 while the music is ducked for the room's voice (ducking.music)."},
     [](const F& f) { return f.ducked ? 1.0 : 0.0; }},
    {{"clubvoice_music_volume", MetricType::gauge, "percent", "/music/volume",
      "Where the ducking envelope is, as mpv's volume in percent."},
     [](const F& f) { return f.volume; }},
    {{"clubvoice_music_room_blocks_total", MetricType::counter, "", "/music/room_blocks",
      "10 ms blocks of the room the voice detector has heard."},
     [](const F& f) { return as_metric(f.blocks); }},
    {{"clubvoice_music_voice_blocks_total", MetricType::counter, "", "/music/voice_blocks",
      "Of those, blocks it took for a voice."},
     [](const F& f) { return as_metric(f.voice_blocks); }},
    {{"clubvoice_music_ducks_total", MetricType::counter, "", "/music/ducks",
      "Times the music went down for the room's voice."},
     [](const F& f) { return as_metric(f.ducks); }},
    {{"clubvoice_mpv_connected", MetricType::gauge, "bool", "/music/mpv/connected",
      "1 while the daemon holds a connection to mpv's IPC socket (mpv.ipc_socket)."},
     [](const F& f) { return f.mpv.connected ? 1.0 : 0.0; }},
    {{"clubvoice_mpv_volume", MetricType::gauge, "percent", "/music/mpv/volume",
      "The last volume sent to mpv; -1 before the first."},
     [](const F& f) { return static_cast<double>(f.mpv.volume); }},
    {{"clubvoice_mpv_connects_total", MetricType::counter, "", "/music/mpv/connects",
      "Connections made to mpv (one more each time mpv comes back)."},
     [](const F& f) { return as_metric(f.mpv.connects); }},
    {{"clubvoice_mpv_volume_commands_total", MetricType::counter, "", "/music/mpv/volume_commands",
      "Volume commands sent to mpv."},
     [](const F& f) { return as_metric(f.mpv.volume_commands); }},
    {{"clubvoice_mpv_errors_total", MetricType::counter, "", "/music/mpv/errors",
      "Answers from mpv other than success."},
     [](const F& f) { return as_metric(f.mpv.errors); }},
});

}  // namespace

MusicDucking::MusicDucking(uv_loop_t* loop, const Config& config)
    : loop_(loop), config_(config), state_(settings()) {
    apply();
}

dsp::MusicDuckState::Settings MusicDucking::settings() const {
    const auto& m = config_.ducking.music;
    return {m.enabled,
            m.min_duration_ms,
            m.release_ms,
            m.transition_ms,
            static_cast<double>(m.ducked_volume),
            static_cast<double>(m.normal_volume)};
}

void MusicDucking::apply() {
    state_.apply(settings());
    const std::string& path = config_.mpv.ipc_socket;
    if (mpv_ && mpv_->socket_path() != path) {
        mpv_->stop(config_.ducking.music.normal_volume);
        mpv_.reset();
    }
    if (!mpv_ && !path.empty()) {
        mpv_ = std::make_unique<MpvControl>(loop_, path);
        mpv_->set_volume(state_.volume());
    }
}

void MusicDucking::on_room(std::span<const float> frame, int channels) {
    const std::size_t block =
        static_cast<std::size_t>(VoiceDetector::kBlockSamples) * static_cast<std::size_t>(channels);
    for (std::size_t at = 0; at + block <= frame.size(); at += block) {
        voice_ = detector_.voice(frame.subspan(at, block), channels);
        ++blocks_;
        voice_blocks_ += voice_ ? 1 : 0;
        const bool was_ducked = state_.ducked();
        state_.step(voice_, 10);
        if (state_.ducked() && !was_ducked) {
            ++ducks_;
            log::debug("music: ducked for the room's voice");
        }
    }
    if (mpv_) mpv_->set_volume(state_.volume());
}

float MusicDucking::mixer_gain() const {
    const double normal = config_.ducking.music.normal_volume;
    if (mpv_ || normal <= 0.0) return 1.0F;
    const double ratio = state_.volume() / normal;
    return static_cast<float>(ratio * ratio * ratio);
}

void MusicDucking::stop() {
    if (mpv_) mpv_->stop(config_.ducking.music.normal_volume);
}

MusicDucking::Figures MusicDucking::figures() const {
    Figures f;
    f.voice = voice_;
    f.ducked = state_.ducked();
    f.volume = state_.volume();
    f.blocks = blocks_;
    f.voice_blocks = voice_blocks_;
    f.ducks = ducks_;
    f.mpv_configured = mpv_ != nullptr;
    if (mpv_) f.mpv = mpv_->figures();
    return f;
}

void MusicDucking::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void MusicDucking::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

nlohmann::json MusicDucking::status_json() const {
    nlohmann::json status = nlohmann::json::object();
    StatusWriter writer(status);
    report(writer);
    nlohmann::json& music = status["music"];
    music["enabled"] = config_.ducking.music.enabled;
    music["mpv"]["socket"] = config_.mpv.ipc_socket;
    return music;
}

}  // namespace clubvoice
