// AudioEngine's figures for /status and /metrics.
#include "audio_engine.hpp"
#include "prometheus.hpp"

namespace clubvoice {
namespace {

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

void gauge(std::string& out, std::string_view name, std::string_view help, double value) {
    append_metric(out, name, MetricType::gauge, help, value);
}
void counter(std::string& out, std::string_view name, std::string_view help, double value) {
    append_metric(out, name, MetricType::counter, help, value);
}
// Counts: exact as doubles up to 2^53.
void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
    counter(out, name, help, static_cast<double>(value));
}

}  // namespace

AudioEngine::Figures AudioEngine::figures() const {
    Figures f = carried_;
    if (!thread_) return f;
    auto add = [](Figures::Stream& to, const AudioThread::StreamCounters& c,
                  const DeviceKeeper& k) {
        to.frames += c.frames.load(std::memory_order_relaxed);
        to.xruns += c.xruns.load(std::memory_order_relaxed);
        to.ring_frames += c.ring_frames.load(std::memory_order_relaxed);
        to.reopens += k.reopens();
        to.open_failures += k.open_failures();
        to.failures += k.device_failures();
    };
    add(f.capture, thread_->counters(PcmDirection::capture), *capture_);
    add(f.playback, thread_->counters(PcmDirection::playback), *playback_);
    f.late_wakeups += thread_->late_wakeups();
    f.talk_gaps += thread_->talk_gaps();
    f.heartbeat += thread_->heartbeat();
    f.cpu_seconds += thread_->thread().cpu_seconds();
    return f;
}

nlohmann::json AudioEngine::status_json() const {
    const Figures f = figures();
    const auto& audio = config_.audio;
    auto stream_json = [&](const DeviceKeeper* keeper, const std::string& device,
                           const Figures::Stream& s) {
        return nlohmann::json{
            {"device", device},
            {"state", state_of(keeper)},
            {"problem", keeper != nullptr ? keeper->problem() : "the audio engine is stopped"},
            {"granted", granted_json(keeper)},
            {"paced_by", to_string(keeper != nullptr ? keeper->pacing() : Pacing::unknown)},
            {"frames_total", s.frames},
            {"xruns_total", s.xruns},
            {"reopens_total", s.reopens},
            {"open_failures_total", s.open_failures},
            {"device_failures_total", s.failures}};
    };
    nlohmann::json capture = stream_json(capture_.get(), audio.capture.device, f.capture);
    capture["channels"] = audio.capture.channels;
    capture["overruns_total"] = f.capture.ring_frames;
    capture["level_dbfs"] = level_dbfs_;
    nlohmann::json playback = stream_json(playback_.get(), audio.playback.device, f.playback);
    playback["played_frames_total"] = f.playback.ring_frames;
    playback["ring_drops_total"] = playback_ring_drops_.load(std::memory_order_relaxed);
    playback["talk_gaps_total"] = f.talk_gaps;

    const double frames = static_cast<double>(std::max<std::uint64_t>(seq_, 1));
    return {
        {"capture", capture},
        {"playback", playback},
        {"encoder",
         {{"frames_total", seq_},
          {"bytes_total", encoded_bytes_},
          {"errors_total", encode_errors_},
          {"frame_ms", audio.frame_ms},
          {"bitrate_kbps", config_.opus.bitrate_kbps},
          {"application", to_string(config_.opus.application)},
          {"complexity", config_.opus.complexity},
          {"fec", config_.opus.fec},
          {"encode_us_avg", static_cast<double>(encode_ns_total_) / frames / 1000.0},
          {"encode_us_max", static_cast<double>(encode_ns_max_) / 1000.0}}},
        {"room_ducking",
         {{"enabled", config_.ducking.room.enabled}, {"gain_db", ducker_.gain_db()}}},
        {"thread",
         {{"running", thread_ != nullptr},
          {"realtime", thread_ != nullptr && realtime_},
          {"rt_priority", audio.rt_priority},
          {"memory_locked", thread_ != nullptr && memory_locked_},
          {"period_ms", audio.period_ms},
          {"heartbeat", f.heartbeat},
          {"late_wakeups_total", f.late_wakeups},
          {"cpu_seconds", f.cpu_seconds}}},
    };
}

void AudioEngine::append_metrics(std::string& out) const {
    const Figures f = figures();
    gauge(out, "clubvoice_capture_up", "1 while the capture device is open", capture_up());
    gauge(out, "clubvoice_room_ducking_gain_db", "gain room ducking applies to the room now, in dB",
          ducker_.gain_db());
    counter(out, "clubvoice_capture_frames_total",
            "audio frames (one sample per channel) read from the capture device", f.capture.frames);
    counter(out, "clubvoice_capture_xruns_total", "capture overruns recovered with snd_pcm_recover",
            f.capture.xruns);
    counter(out, "clubvoice_capture_overruns_total",
            "captured frames lost because the capture ring was full", f.capture.ring_frames);
    counter(out, "clubvoice_capture_reopens_total", "times the capture device was opened again",
            f.capture.reopens);
    counter(out, "clubvoice_capture_open_failures_total",
            "failed attempts to open the capture device", f.capture.open_failures);
    counter(out, "clubvoice_capture_device_failures_total",
            "times the capture device failed while running", f.capture.failures);
    gauge(out, "clubvoice_capture_level_dbfs", "RMS level of the last encoded frame, in dBFS",
          level_dbfs_);

    gauge(out, "clubvoice_playback_up", "1 while the playback device is open", playback_up());
    counter(out, "clubvoice_playback_frames_total",
            "audio frames written to the playback device, silence included", f.playback.frames);
    counter(out, "clubvoice_playback_played_frames_total",
            "frames of queued sound written to the playback device", f.playback.ring_frames);
    counter(out, "clubvoice_playback_ring_drops_total",
            "frames not queued for playback because the playback ring was full",
            playback_ring_drops_.load(std::memory_order_relaxed));
    counter(out, "clubvoice_playback_talk_gaps_total",
            "playback periods partly filled with silence while a talker was playing", f.talk_gaps);
    counter(out, "clubvoice_playback_xruns_total",
            "playback underruns recovered with snd_pcm_recover", f.playback.xruns);
    counter(out, "clubvoice_playback_reopens_total", "times the playback device was opened again",
            f.playback.reopens);
    counter(out, "clubvoice_playback_open_failures_total",
            "failed attempts to open the playback device", f.playback.open_failures);
    counter(out, "clubvoice_playback_device_failures_total",
            "times the playback device failed while running", f.playback.failures);

    counter(out, "clubvoice_encoder_frames_total", "Opus frames encoded", seq_);
    counter(out, "clubvoice_encoder_bytes_total", "bytes of Opus packets produced", encoded_bytes_);
    counter(out, "clubvoice_encoder_errors_total", "frames the Opus encoder refused",
            encode_errors_);
    counter(out, "clubvoice_encoder_seconds_total", "time spent encoding Opus frames",
            static_cast<double>(encode_ns_total_) / 1e9);
    gauge(out, "clubvoice_encoder_max_seconds", "longest time one frame took to encode",
          static_cast<double>(encode_ns_max_) / 1e9);

    gauge(out, "clubvoice_audio_thread_realtime", "1 while the audio thread runs at SCHED_FIFO",
          thread_ != nullptr && realtime_);
    counter(out, "clubvoice_audio_thread_heartbeats_total", "periods the audio thread has run",
            f.heartbeat);
    counter(out, "clubvoice_audio_thread_late_wakeups_total",
            "times the audio thread woke more than a period late and restarted its schedule",
            f.late_wakeups);
    counter(out, "clubvoice_audio_thread_cpu_seconds_total", "CPU time used by the audio thread",
            f.cpu_seconds);
}

}  // namespace clubvoice
