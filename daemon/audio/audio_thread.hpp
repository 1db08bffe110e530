// The real-time audio thread: moves sound between the ALSA devices and the
// lock-free rings the loop reads and fills.
//
// Every few ms (audio.period_ms, on absolute CLOCK_MONOTONIC deadlines) it
// reads what the capture device has, stamps it and pushes it into the capture
// rings, reads the music input (if any) into its two rings (one for what
// listeners hear, one for the room's playback: each has its own consumer),
// and tops the playback device up from the playback ring (or with silence). Devices are opened by
// the loop and handed over through one-item slots; a device that fails is handed back with the
// reason, and the thread carries on with the other one. Software PCMs that do not keep time (null,
// file) are paced by the clock instead of by the device.
//
// Inside its loop the thread never allocates, locks, logs, throws or touches
// a socket: it reports through atomics and wakes the loop with uv_async_send.
//
// Thread: the public methods are for the loop thread (and say so); run()
// is the audio thread.
#pragma once

#include "alsa_pcm.hpp"
#include "audio_device.hpp"
#include "handoff.hpp"
#include "realtime.hpp"
#include "spsc_ring.hpp"

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace clubvoice {

// A chunk of captured frames: its samples are the next frames * channels
// floats in the capture sample ring.
struct CaptureChunk {
    std::int64_t first_sample_ns;  // CLOCK_MONOTONIC time of the chunk's first frame
    std::uint32_t frames;
};

// The three streams the thread runs.
enum class Endpoint : int { capture, playback, music };
std::string_view to_string(Endpoint endpoint);  // "capture", "playback", "music"
PcmDirection direction_of(Endpoint endpoint);

// How a running stream is kept to real time.
enum class Pacing : int { unknown, device, clock };
std::string_view to_string(Pacing pacing);  // "unknown", "device", "clock"

// The ALSA call that failed, for the loop's message.
enum class AlsaCall : int { none, avail, readi, writei, recover, start };
std::string_view to_string(AlsaCall call);  // "snd_pcm_avail", ...

// The padding is the rings' cache-line alignment, in one object per engine.
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
class AudioThread {
  public:
    struct Settings {
        int period_ms = 10;
        int rt_priority = 60;
        std::size_t capture_channels = 1;  // layout of the capture rings
        std::size_t wake_frames = 960;     // wake the loop after this many captured frames
        // Set while a talker is playing (the talk mixer keeps it): a playback
        // period the ring cannot fill is then a gap someone hears.
        const std::atomic<bool>* talkers_playing = nullptr;
    };
    // What a direction's stream has done (written by the audio thread).
    struct StreamCounters {
        std::atomic<std::uint64_t> frames{0};  // frames read or written
        std::atomic<std::uint64_t> xruns{0};   // recovered with snd_pcm_recover
        // Capture: read but the ring was full (music: either of its rings).
        std::atomic<std::uint64_t> lost_frames{0};
        std::atomic<std::uint64_t> played_frames{0};  // playback: taken from the ring (not silence)
        std::atomic<int> pacing{static_cast<int>(Pacing::unknown)};
    };

    // Preallocates the rings; `wake` must outlive the thread.
    AudioThread(const Settings& settings, uv_async_t* wake);
    ~AudioThread();
    AudioThread(const AudioThread&) = delete;
    AudioThread& operator=(const AudioThread&) = delete;

    // Loop: starts the thread (see RealtimeThread for SCHED_FIFO refusals).
    void start();
    // Loop: stops and joins the thread; devices it held are closed.
    void stop();
    const RealtimeThread& thread() const { return thread_; }

    // Loop: hands a freshly opened device to the thread. False (and the
    // device stays with the caller) while the previous one is not taken yet.
    bool offer(Endpoint endpoint, std::unique_ptr<AudioDevice>& device);
    // Loop: a device the thread gave up on, and the call and ALSA error code
    // that made it; null when there is none.
    struct Failure {
        std::unique_ptr<AudioDevice> device;
        AlsaCall call = AlsaCall::none;
        int code = 0;
    };
    Failure take_failed(Endpoint endpoint);

    // Loop: the consumer side of the capture rings, the producer side of the playback ring.
    SpscRing<CaptureChunk>& capture_chunks() { return capture_chunks_; }
    SpscRing<float>& capture_samples() { return capture_samples_; }
    SpscRing<float>& playback_samples() { return playback_samples_; }  // mono, 48 kHz
    // The music input at its device's rate, in the capture rings' layout:
    // one ring for the loop (listeners), one for the talk mixer (the room).
    SpscRing<float>& music_for_listeners() { return music_for_listeners_; }
    SpscRing<float>& music_for_room() { return music_for_room_; }
    // CLOCK_MONOTONIC time of the last push into the music rings.
    const std::atomic<std::int64_t>& music_pushed_at_ns() const { return music_pushed_at_ns_; }

    const StreamCounters& counters(Endpoint e) const { return stream(e).counters; }
    std::uint64_t heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }
    std::uint64_t late_wakeups() const { return late_wakeups_.load(std::memory_order_relaxed); }
    // Playback periods partly filled with silence while a talker was playing.
    std::uint64_t talk_gaps() const { return talk_gaps_.load(std::memory_order_relaxed); }
    const Settings& settings() const { return settings_; }

  private:
    struct Stream {
        explicit Stream(Endpoint e) : endpoint(e), direction(direction_of(e)) {}

        const Endpoint endpoint;
        const PcmDirection direction;
        Handoff<AudioDevice> incoming;
        Handoff<AudioDevice> failed;
        std::atomic<int> fail_call{0};
        std::atomic<int> fail_code{0};
        StreamCounters counters;

        // Audio thread only.
        std::unique_ptr<AudioDevice> device;
        bool broken = false;  // failed; waiting for `failed` to be free
        Pacing pacing = Pacing::unknown;
        std::int64_t clock_start_ns = 0;  // clock pacing: when frame 0 was due
        std::uint64_t clock_frames = 0;   // clock pacing: frames moved since then
    };

    Stream& stream(Endpoint e) {
        return e == Endpoint::capture ? capture_ : e == Endpoint::playback ? playback_ : music_;
    }
    const Stream& stream(Endpoint e) const {
        return e == Endpoint::capture ? capture_ : e == Endpoint::playback ? playback_ : music_;
    }

    // Audio thread.
    void run() noexcept;
    void adopt(Stream& s, std::int64_t now_ns) noexcept;
    bool start_stream(Stream& s, std::int64_t now_ns) noexcept;
    // Reads what a capture stream has into its device's `samples` (in the
    // capture layout); returns the frames read and their first frame's time.
    std::size_t read_capture(Stream& s, std::int64_t now_ns, std::int64_t& first_ns) noexcept;
    void service_capture(std::int64_t now_ns) noexcept;
    void service_music(std::int64_t now_ns) noexcept;
    void service_playback(std::int64_t now_ns) noexcept;
    std::size_t frames_due(Stream& s, std::int64_t now_ns) noexcept;
    bool handle_error(Stream& s, AlsaCall call, long code, std::int64_t now_ns) noexcept;
    void fail(Stream& s, AlsaCall call, long code) noexcept;
    void hand_back(Stream& s) noexcept;

    const Settings settings_;
    uv_async_t* const wake_;
    SpscRing<CaptureChunk> capture_chunks_;
    SpscRing<float> capture_samples_;
    SpscRing<float> playback_samples_;
    SpscRing<float> music_for_listeners_;
    SpscRing<float> music_for_room_;
    std::atomic<std::int64_t> music_pushed_at_ns_{0};
    Stream capture_{Endpoint::capture};
    Stream playback_{Endpoint::playback};
    Stream music_{Endpoint::music};

    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> heartbeat_{0};
    std::atomic<std::uint64_t> late_wakeups_{0};
    std::atomic<std::uint64_t> talk_gaps_{0};
    std::size_t frames_since_wake_ = 0;  // audio thread only
    bool wake_now_ = false;              // audio thread only
    RealtimeThread thread_;
};

}  // namespace clubvoice
