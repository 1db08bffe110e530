// The audio engine: from the sound device to encoded Opus frames, and from
// play() to the playback device.
//
// Owns the real-time audio thread (capture and playback, see AudioThread),
// the devices' keepers (open, report, reopen), and on the loop side cuts the
// captured sound into frames of audio.frame_ms, runs the capture DSP, measures
// the level, encodes each frame once with Opus and passes it to the sink.
//
// Thread: loop, for every method; the sink is called on the loop.
#pragma once

#include "audio_thread.hpp"
#include "config.hpp"
#include "device_keeper.hpp"
#include "dsp/capture_dsp.hpp"
#include "dsp/ducker.hpp"
#include "dsp/limiter.hpp"
#include "frame_assembler.hpp"
#include "metrics.hpp"
#include "music_input.hpp"
#include "opus_encoder.hpp"
#include "playback_out.hpp"
#include "rate_limited_log.hpp"
#include "uv_handles.hpp"

#include <uv.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

struct EncodedFrame {
    std::uint64_t seq;        // counts frames from 0; never skips
    std::int64_t capture_ms;  // CLOCK_REALTIME ms of the frame's first sample
    std::string_view opus;    // one Opus packet; valid during the call only
};
using FrameSink = std::function<void(const EncodedFrame&)>;
// The room as captured and cleaned (before anything lowers it), one frame at
// a time, interleaved: what the music ducking listens to.
using RoomListener = std::function<void(std::span<const float> frame, int channels)>;

class AudioEngine {
  public:
    AudioEngine(uv_loop_t* loop, const Config& config, FrameSink sink);
    ~AudioEngine();
    AudioEngine(const AudioEngine&) = delete;
    AudioEngine& operator=(const AudioEngine&) = delete;

    // Opens the devices (a device that fails is reported and retried in the
    // background) and starts the audio thread. Logs the granted parameters,
    // and one warning when SCHED_FIFO or memory locking is refused.
    void start();
    // Stops and joins the audio thread and closes the devices.
    void stop();
    // Applies a reloaded configuration: DSP and Opus settings in place; a
    // change of devices, channels, frame, period, buffer or priority restarts
    // the audio thread (seq keeps counting).
    void apply(const Config& config);

    // Queues mono 48 kHz audio for the playback device. False when it does
    // not fit in the playback ring (all of it is dropped and counted).
    bool play(std::span<const float> mono_48k);
    // Samples queued for the playback device and not yet taken by the audio thread.
    std::size_t playback_queued() const;
    // Room ducking (ducking.room.*): lowers the room sent to listeners while set.
    void set_room_ducked(bool ducked);
    // play(), playback_queued() and set_talkers_playing() for the talk mixer.
    PlaybackOut playback_out();
    // Any thread: a talker is playing, so the playback ring running dry is a gap.
    void set_talkers_playing(bool playing) {
        talkers_playing_.store(playing, std::memory_order_relaxed);
    }

    bool capture_up() const;
    bool playback_up() const;
    std::string capture_problem() const;   // empty while up
    std::string playback_problem() const;  // empty while up
    bool music_configured() const { return !config_.audio.music.device.empty(); }
    bool music_up() const { return music_ && music_->up(); }
    std::string music_problem() const {
        return music_ ? music_->problem() : "the audio engine is stopped";
    }
    // Moves while the audio thread runs (for the systemd watchdog).
    std::uint64_t heartbeat() const;
    int channels() const { return config_.audio.capture.channels; }
    int frame_ms() const { return config_.audio.frame_ms; }
    float capture_level_dbfs() const { return level_dbfs_; }
    // The music input's level before any gain; -120 without one.
    float music_level_dbfs() const { return music_ ? music_->level_dbfs() : -120.0F; }
    // The music ducking's envelope as a linear gain on the music input
    // (1 while not ducked, or while mpv is turned down instead).
    void set_music_envelope(float gain) {
        music_envelope_ = gain;
        if (music_) music_->set_envelope(gain);
    }
    void set_room_listener(RoomListener listener) { room_listener_ = std::move(listener); }

    // Counters of the audio thread and the keepers (which live only while
    // running: what earlier runs counted is carried, so totals never go
    // back) and of the loop's side.
    struct Figures {
        struct Stream {
            std::uint64_t frames = 0, xruns = 0, lost_frames = 0, played_frames = 0;
            std::uint64_t reopens = 0, open_failures = 0, failures = 0;
            bool up = false;
        } capture, playback;
        std::uint64_t late_wakeups = 0, heartbeat = 0, talk_gaps = 0, ring_drops = 0;
        double cpu_seconds = 0.0;
        bool realtime = false, memory_locked = false;
        float level_dbfs = -120.0F, ducking_gain_db = 0.0F;
        std::uint64_t encoded_frames = 0, encoded_bytes = 0, encode_errors = 0;
        std::uint64_t encode_ns_total = 0, encode_ns_max = 0;
    };
    Figures figures() const;
    // The figures under clubvoice_capture_*, _playback_*, _encoder_*,
    // _audio_thread_* (/status: "audio").
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics
    // /status "audio": the devices, the settings in force and the figures.
    nlohmann::json status_json() const;
    // The figures in Prometheus text format.
    void append_metrics(std::string& out) const;

  private:
    void on_wake();
    void drain_capture();
    void report_late_wakeups();
    void encode(std::span<float> frame, std::int64_t first_sample_ns);
    void build_pipeline();
    static dsp::CaptureDspSettings dsp_settings(const Config& config);
    static OpusEncoderSettings opus_settings(const Config& config);
    static dsp::Ducker::Settings ducker_settings(const Config& config);

    uv_loop_t* loop_;
    Config config_;
    FrameSink sink_;

    // Loop-side pipeline.
    dsp::CaptureDsp dsp_;
    dsp::Ducker ducker_;
    OpusEncoder encoder_;
    std::unique_ptr<FrameAssembler> assembler_;
    std::vector<float> scratch_;

    // The audio thread and its devices; present while running.
    UvAsync wake_;
    std::unique_ptr<AudioThread> thread_;
    std::unique_ptr<DeviceKeeper> capture_;
    std::unique_ptr<DeviceKeeper> playback_;
    // Present while running with audio.music.device set; replaced only while
    // the talk mixer is paused or stopped (it reaches it through playback_out).
    std::unique_ptr<MusicInput> music_;
    float music_envelope_ = 1.0F;
    dsp::Limiter mix_limiter_;  // room + music for listeners
    bool realtime_ = false;
    bool memory_locked_ = false;

    // Counters kept by the loop.
    std::uint64_t seq_ = 0;
    std::uint64_t encoded_bytes_ = 0;
    std::uint64_t encode_ns_total_ = 0;
    std::uint64_t encode_ns_max_ = 0;
    std::uint64_t encode_errors_ = 0;
    // Frames play() could not queue; play() runs on the talk mixer's thread.
    std::atomic<std::uint64_t> playback_ring_drops_{0};
    std::atomic<bool> talkers_playing_{false};
    float level_dbfs_ = -120.0F;
    RoomListener room_listener_;
    RateLimitedLog late_log_;  // late wake-ups of the audio thread

    Figures carried_;  // what earlier runs of the audio thread counted
};

}  // namespace clubvoice
