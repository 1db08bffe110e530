// AudioEngine's figures for /status and /metrics: one table, both places.
#include "audio_engine.hpp"

namespace clubvoice {
namespace {

using F = AudioEngine::Figures;
using S = AudioEngine::Figures::Stream;

// A counter of one device's stream.
template <S F::*stream>
double field(const F& f, std::uint64_t S::*member) {
    return static_cast<double>(f.*stream.*member);
}

constexpr auto kMetrics = std::to_array<Metric<F>>({
    // Capture.
    {{"clubvoice_capture_up", MetricType::gauge, "bool", "/audio/capture/up",
      "1 while the capture device is open."},
     [](const F& f) { return f.capture.up ? 1.0 : 0.0; }},
    {{"clubvoice_capture_frames_total", MetricType::counter, "frames",
      "/audio/capture/frames_total",
      "Audio frames (one sample per channel) read from the capture device."},
     [](const F& f) { return field<&F::capture>(f, &S::frames); }},
    {{"clubvoice_capture_xruns_total", MetricType::counter, "", "/audio/capture/xruns_total",
      "Capture overruns recovered with snd_pcm_recover."},
     [](const F& f) { return field<&F::capture>(f, &S::xruns); }},
    {{"clubvoice_capture_overruns_total", MetricType::counter, "frames",
      "/audio/capture/overruns_total",
      "Captured frames lost because the capture ring was full (the loop fell behind)."},
     [](const F& f) { return field<&F::capture>(f, &S::lost_frames); }},
    {{"clubvoice_capture_reopens_total", MetricType::counter, "", "/audio/capture/reopens_total",
      "Times the capture device was opened again."},
     [](const F& f) { return field<&F::capture>(f, &S::reopens); }},
    {{"clubvoice_capture_open_failures_total", MetricType::counter, "",
      "/audio/capture/open_failures_total", "Failed attempts to open the capture device."},
     [](const F& f) { return field<&F::capture>(f, &S::open_failures); }},
    {{"clubvoice_capture_device_failures_total", MetricType::counter, "",
      "/audio/capture/device_failures_total", "Times the capture device failed while running."},
     [](const F& f) { return field<&F::capture>(f, &S::failures); }},
    {{"clubvoice_capture_level_dbfs", MetricType::gauge, "dBFS", "/audio/capture/level_dbfs",
      "RMS level of the last captured frame after the capture DSP, in dBFS."},
     [](const F& f) { return static_cast<double>(f.level_dbfs); }},
    {{"clubvoice_room_ducking_gain_db", MetricType::gauge, "dB", "/audio/room_ducking/gain_db",
      "Gain room ducking applies to the room now, in dB."},
     [](const F& f) { return static_cast<double>(f.ducking_gain_db); }},
    // Playback.
    {{"clubvoice_playback_up", MetricType::gauge, "bool", "/audio/playback/up",
      "1 while the playback device is open."},
     [](const F& f) { return f.playback.up ? 1.0 : 0.0; }},
    {{"clubvoice_playback_frames_total", MetricType::counter, "frames",
      "/audio/playback/frames_total",
      "Audio frames written to the playback device, silence included."},
     [](const F& f) { return field<&F::playback>(f, &S::frames); }},
    {{"clubvoice_playback_played_frames_total", MetricType::counter, "frames",
      "/audio/playback/played_frames_total",
      "Frames of queued sound (not silence) written to the playback device."},
     [](const F& f) { return field<&F::playback>(f, &S::played_frames); }},
    {{"clubvoice_playback_ring_drops_total", MetricType::counter, "frames",
      "/audio/playback/ring_drops_total",
      "Frames not queued for playback because the playback ring was full."},
     [](const F& f) { return static_cast<double>(f.ring_drops); }},
    {{"clubvoice_playback_talk_gaps_total", MetricType::counter, "",
      "/audio/playback/talk_gaps_total",
      "Playback periods partly filled with silence while a talker was playing."},
     [](const F& f) { return static_cast<double>(f.talk_gaps); }},
    {{"clubvoice_playback_xruns_total", MetricType::counter, "", "/audio/playback/xruns_total",
      "Playback underruns recovered with snd_pcm_recover."},
     [](const F& f) { return field<&F::playback>(f, &S::xruns); }},
    {{"clubvoice_playback_reopens_total", MetricType::counter, "", "/audio/playback/reopens_total",
      "Times the playback device was opened again."},
     [](const F& f) { return field<&F::playback>(f, &S::reopens); }},
    {{"clubvoice_playback_open_failures_total", MetricType::counter, "",
      "/audio/playback/open_failures_total", "Failed attempts to open the playback device."},
     [](const F& f) { return field<&F::playback>(f, &S::open_failures); }},
    {{"clubvoice_playback_device_failures_total", MetricType::counter, "",
      "/audio/playback/device_failures_total", "Times the playback device failed while running."},
     [](const F& f) { return field<&F::playback>(f, &S::failures); }},
    // The encoder.
    {{"clubvoice_encoder_frames_total", MetricType::counter, "", "/audio/encoder/frames_total",
      "Opus frames encoded (the `seq` of the next `audio` event)."},
     [](const F& f) { return static_cast<double>(f.encoded_frames); }},
    {{"clubvoice_encoder_bytes_total", MetricType::counter, "bytes", "/audio/encoder/bytes_total",
      "Bytes of Opus packets produced."},
     [](const F& f) { return static_cast<double>(f.encoded_bytes); }},
    {{"clubvoice_encoder_errors_total", MetricType::counter, "", "/audio/encoder/errors_total",
      "Frames the Opus encoder refused."},
     [](const F& f) { return static_cast<double>(f.encode_errors); }},
    {{"clubvoice_encoder_seconds_total", MetricType::counter, "s", "/audio/encoder/seconds_total",
      "Time spent encoding Opus frames."},
     [](const F& f) { return static_cast<double>(f.encode_ns_total) / 1e9; }},
    {{"clubvoice_encoder_max_seconds", MetricType::gauge, "s", "/audio/encoder/max_seconds",
      "The longest time one frame took to encode."},
     [](const F& f) { return static_cast<double>(f.encode_ns_max) / 1e9; }},
    // The audio thread.
    {{"clubvoice_audio_thread_realtime", MetricType::gauge, "bool", "/audio/thread/realtime",
      "1 while the audio thread runs at SCHED_FIFO."},
     [](const F& f) { return f.realtime ? 1.0 : 0.0; }},
    {{"clubvoice_audio_memory_locked", MetricType::gauge, "bool", "/audio/thread/memory_locked",
      "1 while the daemon's memory is locked (mlockall), so the audio threads never page."},
     [](const F& f) { return f.memory_locked ? 1.0 : 0.0; }},
    {{"clubvoice_audio_thread_heartbeats_total", MetricType::counter, "", "/audio/thread/heartbeat",
      "Periods the audio thread has run."},
     [](const F& f) { return static_cast<double>(f.heartbeat); }},
    {{"clubvoice_audio_thread_late_wakeups_total", MetricType::counter, "",
      "/audio/thread/late_wakeups_total",
      "Times the audio thread woke more than a period late and restarted its schedule."},
     [](const F& f) { return static_cast<double>(f.late_wakeups); }},
    {{"clubvoice_audio_thread_cpu_seconds_total", MetricType::counter, "s",
      "/audio/thread/cpu_seconds", "CPU time used by the audio thread."},
     [](const F& f) { return f.cpu_seconds; }},
});

nlohmann::json granted_json(const DeviceKeeper* keeper) {
    if (keeper == nullptr || !keeper->granted()) return nullptr;
    const PcmGranted& g = *keeper->granted();
    return {{"rate_hz", g.rate_hz},          {"channels", g.channels},
            {"format", to_string(g.format)}, {"period_frames", g.period_frames},
            {"period_ms", g.period_ms()},    {"buffer_frames", g.buffer_frames},
            {"buffer_ms", g.buffer_ms()}};
}

std::string_view state_of(const DeviceKeeper* keeper) {
    if (keeper == nullptr) return "stopped";
    return keeper->up() ? "up" : "down";
}

nlohmann::json device_json(const DeviceKeeper* keeper, const std::string& device) {
    return {{"device", device},
            {"state", state_of(keeper)},
            {"problem", keeper != nullptr ? keeper->problem() : "the audio engine is stopped"},
            {"granted", granted_json(keeper)},
            {"paced_by", to_string(keeper != nullptr ? keeper->pacing() : Pacing::unknown)}};
}

}  // namespace

AudioEngine::Figures AudioEngine::figures() const {
    Figures f = carried_;  // the running thread's counts add to these; the rest is now
    f.ring_drops = playback_ring_drops_.load(std::memory_order_relaxed);
    f.level_dbfs = level_dbfs_;
    f.ducking_gain_db = ducker_.gain_db();
    f.encoded_frames = seq_;
    f.encoded_bytes = encoded_bytes_;
    f.encode_errors = encode_errors_;
    f.encode_ns_total = encode_ns_total_;
    f.encode_ns_max = encode_ns_max_;
    f.capture.up = capture_up();
    f.playback.up = playback_up();
    f.realtime = thread_ != nullptr && realtime_;
    f.memory_locked = thread_ != nullptr && memory_locked_;
    if (!thread_) return f;
    auto add = [](Figures::Stream& to, const AudioThread::StreamCounters& c,
                  const DeviceKeeper& k) {
        to.frames += c.frames.load(std::memory_order_relaxed);
        to.xruns += c.xruns.load(std::memory_order_relaxed);
        to.lost_frames += c.lost_frames.load(std::memory_order_relaxed);
        to.played_frames += c.played_frames.load(std::memory_order_relaxed);
        to.reopens += k.reopens();
        to.open_failures += k.open_failures();
        to.failures += k.device_failures();
    };
    add(f.capture, thread_->counters(Endpoint::capture), *capture_);
    add(f.playback, thread_->counters(Endpoint::playback), *playback_);
    f.late_wakeups += thread_->late_wakeups();
    f.talk_gaps += thread_->talk_gaps();
    f.heartbeat += thread_->heartbeat();
    f.cpu_seconds += thread_->thread().cpu_seconds();
    return f;
}

void AudioEngine::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
    if (music_) {
        music_->report(out);
    } else {
        MusicInput::describe_metrics(out);  // the same series, at rest
    }
}

void AudioEngine::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
    MusicInput::describe_metrics(out);
}

void AudioEngine::append_metrics(std::string& out) const {
    PrometheusWriter writer(out);
    report(writer);
}

nlohmann::json AudioEngine::status_json() const {
    const auto& audio = config_.audio;
    nlohmann::json capture = device_json(capture_.get(), audio.capture.device);
    capture["channels"] = audio.capture.channels;
    nlohmann::json doc = {{"audio",
                           {{"capture", std::move(capture)},
                            {"playback", device_json(playback_.get(), audio.playback.device)},
                            {"encoder",
                             {{"frame_ms", audio.frame_ms},
                              {"bitrate_kbps", config_.opus.bitrate_kbps},
                              {"application", to_string(config_.opus.application)},
                              {"complexity", config_.opus.complexity},
                              {"fec", config_.opus.fec}}},
                            {"room_ducking", {{"enabled", config_.ducking.room.enabled}}},
                            {"thread",
                             {{"running", thread_ != nullptr},
                              {"rt_priority", audio.rt_priority},
                              {"period_ms", audio.period_ms}}}}}};
    StatusWriter writer(doc);
    report(writer);
    if (music_) {
        doc["audio"]["music"] = music_->status_json();
    } else {
        doc["audio"]["music"]["device"] = audio.music.device;
        doc["audio"]["music"]["state"] = thread_ ? "off" : "stopped";
    }
    return std::move(doc["audio"]);
}

}  // namespace clubvoice
