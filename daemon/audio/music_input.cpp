#include "music_input.hpp"

#include "dsp/level_meter.hpp"
#include "loop_thread.hpp"

#include <algorithm>
#include <cmath>

namespace clubvoice {
namespace {

constexpr unsigned kRateHz = 48000;
constexpr std::size_t kMaxChunkFrames = std::size_t{48} * 400;  // the longest pull: 400 ms

using F = MusicInput::Figures;
using B = ClockBridge::Figures;

PcmRequest request_for(const Config& config) {
    const auto& a = config.audio;
    PcmRequest r;
    r.device = a.music.device;
    r.direction = PcmDirection::capture;
    r.rate_hz = kRateHz;
    r.any_rate = true;  // the bridge resamples whatever the card runs at
    r.channels = static_cast<unsigned>(a.capture.channels);
    r.period_us = static_cast<unsigned>(a.period_ms) * 1000;
    r.buffer_us = static_cast<unsigned>(a.buffer_ms) * 1000;
    return r;
}

float db_gain(double db) {
    return static_cast<float>(dsp::db_to_gain(db));
}

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_music_input_up", MetricType::gauge, "bool", "/audio/music/up",
      "1 while the music input (audio.music.device) is open."},
     [](const F& f) { return f.up ? 1.0 : 0.0; }},
    {{"clubvoice_music_input_level_dbfs", MetricType::gauge, "dBFS", "/audio/music/level_dbfs",
      "RMS level of the music input over the last room frame, before any gain, in dBFS."},
     [](const F& f) { return static_cast<double>(f.level_dbfs); }},
    {{"clubvoice_music_input_envelope_db", MetricType::gauge, "dB", "/audio/music/envelope_db",
      "Gain the ducking applies to the music input in the mixer (0 when mpv is turned down "
      "instead)."},
     [](const F& f) { return static_cast<double>(f.envelope_db); }},
    {{"clubvoice_music_input_frames_total", MetricType::counter, "frames",
      "/audio/music/frames_total", "Frames read from the music input at its own rate."},
     [](const F& f) { return as_metric(f.frames); }},
    {{"clubvoice_music_input_overruns_total", MetricType::counter, "frames",
      "/audio/music/overruns_total",
      "Music frames lost because one of its rings was full (its consumer was away)."},
     [](const F& f) { return as_metric(f.lost_frames); }},
    {{"clubvoice_music_input_xruns_total", MetricType::counter, "", "/audio/music/xruns_total",
      "Music input overruns recovered with snd_pcm_recover."},
     [](const F& f) { return as_metric(f.xruns); }},
    {{"clubvoice_music_input_reopens_total", MetricType::counter, "", "/audio/music/reopens_total",
      "Times the music input was opened again."},
     [](const F& f) { return as_metric(f.reopens); }},
    {{"clubvoice_music_input_open_failures_total", MetricType::counter, "",
      "/audio/music/open_failures_total", "Failed attempts to open the music input."},
     [](const F& f) { return as_metric(f.open_failures); }},
    {{"clubvoice_music_input_device_failures_total", MetricType::counter, "",
      "/audio/music/device_failures_total", "Times the music input failed while running."},
     [](const F& f) { return as_metric(f.failures); }},
    // The two bridges.
    {{"clubvoice_music_listeners_correction_ppm", MetricType::gauge, "ppm",
      "/audio/music/listeners/correction_ppm",
      "How much faster (or slower, < 0) than nominal the listeners' resampler consumes the "
      "music, following its card's clock."},
     [](const F& f) { return f.listeners.correction * 1e6; }},
    {{"clubvoice_music_listeners_fill_ms", MetricType::gauge, "ms",
      "/audio/music/listeners/fill_ms", "Music waiting for the listeners' mix (smoothed)."},
     [](const F& f) { return f.listeners.fill_ms; }},
    {{"clubvoice_music_listeners_underruns_total", MetricType::counter, "",
      "/audio/music/listeners/underruns_total",
      "Times the listeners' music ran dry while playing."},
     [](const F& f) { return as_metric(f.listeners.underruns); }},
    {{"clubvoice_music_listeners_dropped_frames_total", MetricType::counter, "frames",
      "/audio/music/listeners/dropped_frames_total",
      "Music frames dropped as too old for the listeners' mix."},
     [](const F& f) { return as_metric(f.listeners.dropped_frames); }},
    {{"clubvoice_music_room_correction_ppm", MetricType::gauge, "ppm",
      "/audio/music/room/correction_ppm",
      "How much faster (or slower, < 0) than nominal the room's resampler consumes the music."},
     [](const F& f) { return f.room.correction * 1e6; }},
    {{"clubvoice_music_room_fill_ms", MetricType::gauge, "ms", "/audio/music/room/fill_ms",
      "Music waiting for the room's playback mix (smoothed)."},
     [](const F& f) { return f.room.fill_ms; }},
    {{"clubvoice_music_room_underruns_total", MetricType::counter, "",
      "/audio/music/room/underruns_total", "Times the room's music ran dry while playing."},
     [](const F& f) { return as_metric(f.room.underruns); }},
    {{"clubvoice_music_room_dropped_frames_total", MetricType::counter, "frames",
      "/audio/music/room/dropped_frames_total",
      "Music frames dropped as too old for the room's playback mix."},
     [](const F& f) { return as_metric(f.room.dropped_frames); }},
});

}  // namespace

MusicInput::MusicInput(uv_loop_t* loop, AudioThread& thread, const Config& config)
    : thread_(thread),
      channels_(static_cast<std::size_t>(config.audio.capture.channels)),
      // Two frames and two periods: the loop's frame, its lateness, and the
      // mixer's pulls of up to two periods.
      target_ms_(2.0 * config.audio.frame_ms + 2.0 * config.audio.period_ms),
      keeper_(loop, thread, Endpoint::music, request_for(config), channels_),
      device_(config.audio.music.device),
      listener_scratch_(kMaxChunkFrames * channels_),
      room_scratch_(kMaxChunkFrames * channels_) {
    apply(config);
    keeper_.open_now();
    poll();
}

MusicInput::~MusicInput() {
    keeper_.stop();
    const std::lock_guard<std::mutex> guard(room_mutex_);
    room_.reset();
}

void MusicInput::apply(const Config& config) {
    gain_ = db_gain(config.audio.music.gain_db);
    room_gain_.store(db_gain(config.audio.music.room_gain_db), std::memory_order_relaxed);
}

void MusicInput::poll() {
    assert_on_loop();
    keeper_.poll();
    if (!keeper_.up() || !keeper_.granted()) return;
    const PcmGranted& g = *keeper_.granted();
    if (!listeners_ || listeners_->in_rate_hz() != g.rate_hz) rebuild(g.rate_hz);
}

void MusicInput::rebuild(unsigned rate_hz) {
    const double target = target_ms_ + keeper_.granted()->period_ms();
    auto& pushed_at = thread_.music_pushed_at_ns();
    // Made before the lock is taken: the mixer thread never waits on an allocation.
    auto room = std::make_unique<ClockBridge>(thread_.music_for_room(), pushed_at, channels_,
                                              rate_hz, kRateHz, target);
    listeners_ = std::make_unique<ClockBridge>(thread_.music_for_listeners(), pushed_at, channels_,
                                               rate_hz, kRateHz, target);
    const std::lock_guard<std::mutex> guard(room_mutex_);
    room_.swap(room);
}

void MusicInput::mix_for_listeners(std::span<float> frame, std::int64_t now_ns) {
    assert_on_loop();
    if (!listeners_) return;
    const std::size_t count = std::min(frame.size(), listener_scratch_.size());
    const std::span<float> music = std::span<float>(listener_scratch_).first(count);
    listeners_->pull(music, now_ns);
    level_dbfs_ = dsp::rms_dbfs(music);
    const float g = gain_ * envelope_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < count; ++i) frame[i] += g * music[i];
}

bool MusicInput::add_to_room(std::span<float> mono, std::int64_t now_ns) noexcept {
    const std::unique_lock<std::mutex> guard(room_mutex_, std::try_to_lock);
    if (!guard || !room_) return false;
    const std::size_t frames = std::min(mono.size(), room_scratch_.size() / channels_);
    const std::span<float> music = std::span<float>(room_scratch_).first(frames * channels_);
    if (room_->pull(music, now_ns) == 0) return false;
    const float g = room_gain_.load(std::memory_order_relaxed) *
                    envelope_.load(std::memory_order_relaxed) /
                    static_cast<float>(channels_);  // the channels' average
    for (std::size_t i = 0; i < frames; ++i) {
        float sum = 0.0F;
        for (std::size_t c = 0; c < channels_; ++c) sum += music[i * channels_ + c];
        mono[i] += g * sum;
    }
    return true;
}

MusicInput::Figures MusicInput::figures() const {
    Figures f;
    f.up = keeper_.up();
    f.level_dbfs = level_dbfs_;
    f.envelope_db = dsp::amplitude_to_dbfs(envelope_.load(std::memory_order_relaxed));
    const auto& c = thread_.counters(Endpoint::music);
    f.frames = c.frames.load(std::memory_order_relaxed);
    f.lost_frames = c.lost_frames.load(std::memory_order_relaxed);
    f.xruns = c.xruns.load(std::memory_order_relaxed);
    f.reopens = keeper_.reopens();
    f.open_failures = keeper_.open_failures();
    f.failures = keeper_.device_failures();
    if (listeners_) f.listeners = listeners_->figures();
    const std::lock_guard<std::mutex> guard(room_mutex_);
    if (room_) f.room = room_->figures();
    return f;
}

void MusicInput::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void MusicInput::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

nlohmann::json MusicInput::status_json() const {
    nlohmann::json doc = nlohmann::json::object();
    StatusWriter writer(doc);
    report(writer);
    nlohmann::json music = std::move(doc["audio"]["music"]);
    music["device"] = device_;
    music["state"] = keeper_.up() ? "up" : "down";
    music["problem"] = keeper_.problem();
    if (const auto& g = keeper_.granted()) {
        music["granted"] = {
            {"rate_hz", g->rate_hz}, {"channels", g->channels}, {"period_ms", g->period_ms()}};
    }
    return music;
}

}  // namespace clubvoice
