#include "audio_thread.hpp"

#include "monotonic_clock.hpp"

#include <algorithm>
#include <cerrno>

namespace clubvoice {
namespace {

constexpr std::size_t kStackBytes = std::size_t{512} * 1024;
constexpr std::size_t kCaptureChunks = 1024;     // > one second of the shortest periods
constexpr std::size_t kPlaybackSamples = 65536;  // 1.4 s of mono 48 kHz
constexpr std::size_t kMusicFrames = 65536;      // 1.4 s at 48 kHz; more than the bridge keeps

// Split into whole seconds first so that days of frames or nanoseconds do not overflow.
std::int64_t ns_for_frames(std::uint64_t frames, unsigned rate) noexcept {
    return static_cast<std::int64_t>(frames / rate) * kNsPerSecond +
           static_cast<std::int64_t>((frames % rate) * kNsPerSecond / rate);
}
std::uint64_t frames_for_ns(std::int64_t ns, unsigned rate) noexcept {
    if (ns <= 0) return 0;
    return static_cast<std::uint64_t>(ns / kNsPerSecond) * rate +
           static_cast<std::uint64_t>(ns % kNsPerSecond) * rate / kNsPerSecond;
}

}  // namespace

std::string_view to_string(Endpoint endpoint) {
    switch (endpoint) {
        case Endpoint::capture:
            return "capture";
        case Endpoint::playback:
            return "playback";
        case Endpoint::music:
            return "music";
    }
    return "?";
}

PcmDirection direction_of(Endpoint endpoint) {
    return endpoint == Endpoint::playback ? PcmDirection::playback : PcmDirection::capture;
}

std::string_view to_string(Pacing pacing) {
    switch (pacing) {
        case Pacing::device:
            return "device";
        case Pacing::clock:
            return "clock";
        case Pacing::unknown:
            break;
    }
    return "unknown";
}

std::string_view to_string(AlsaCall call) {
    switch (call) {
        case AlsaCall::avail:
            return "snd_pcm_avail";
        case AlsaCall::readi:
            return "snd_pcm_readi";
        case AlsaCall::writei:
            return "snd_pcm_writei";
        case AlsaCall::recover:
            return "snd_pcm_recover";
        case AlsaCall::start:
            return "snd_pcm_start";
        case AlsaCall::none:
            break;
    }
    return "?";
}

AudioThread::AudioThread(const Settings& settings, uv_async_t* wake)
    : settings_(settings),
      wake_(wake),
      capture_chunks_(kCaptureChunks),
      capture_samples_(48000 * settings.capture_channels),
      playback_samples_(kPlaybackSamples),
      music_for_listeners_(kMusicFrames * settings.capture_channels),
      music_for_room_(kMusicFrames * settings.capture_channels) {}

AudioThread::~AudioThread() {
    stop();
}

void AudioThread::start() {
    stop_.store(false);
    thread_.start([this] { run(); }, settings_.rt_priority, kStackBytes);
}

void AudioThread::stop() {
    if (!thread_.running()) return;
    stop_.store(true);
    thread_.join();
    for (Stream* s : {&capture_, &playback_, &music_}) {
        s->device.reset();
        s->broken = false;
        s->incoming.take();
    }
}

bool AudioThread::offer(Endpoint endpoint, std::unique_ptr<AudioDevice>& device) {
    return stream(endpoint).incoming.put(device);
}

AudioThread::Failure AudioThread::take_failed(Endpoint endpoint) {
    Stream& s = stream(endpoint);
    Failure f;
    f.device = s.failed.take();  // acquire: the call and code were stored before the put
    if (f.device) {
        f.call = static_cast<AlsaCall>(s.fail_call.load(std::memory_order_relaxed));
        f.code = s.fail_code.load(std::memory_order_relaxed);
    }
    return f;
}

void AudioThread::run() noexcept {
    quiet_alsa_errors_on_this_thread();
    const std::int64_t period_ns = static_cast<std::int64_t>(settings_.period_ms) * 1'000'000;
    std::int64_t deadline = monotonic_ns();
    while (!stop_.load(std::memory_order_relaxed)) {
        deadline += period_ns;
        sleep_until_ns(deadline);
        const std::int64_t now = monotonic_ns();
        if (now - deadline > period_ns) {
            // Scheduled too late to catch up sensibly: restart the schedule from now.
            late_wakeups_.fetch_add(1, std::memory_order_relaxed);
            deadline = now;
        }
        heartbeat_.fetch_add(1, std::memory_order_relaxed);
        for (Stream* s : {&capture_, &playback_, &music_}) {
            hand_back(*s);
            adopt(*s, now);
        }
        service_capture(now);
        service_music(now);
        service_playback(now);
        if (wake_now_ || frames_since_wake_ >= settings_.wake_frames) {
            uv_async_send(wake_);
            wake_now_ = false;
            // Keep the remainder: the loop is then woken in the first period
            // after each frame boundary, not a drifting period later.
            frames_since_wake_ %= settings_.wake_frames;
        }
    }
}

void AudioThread::adopt(Stream& s, std::int64_t now_ns) noexcept {
    if (s.device || s.broken) return;
    s.device = s.incoming.take();
    if (s.device) start_stream(s, now_ns);
}

bool AudioThread::start_stream(Stream& s, std::int64_t now_ns) noexcept {
    AlsaPcm& pcm = s.device->pcm;
    const PcmGranted& g = pcm.granted();
    if (s.direction == PcmDirection::playback) {
        // A full buffer of silence: playback then starts with its whole margin.
        std::fill(s.device->raw.begin(), s.device->raw.end(), std::byte{0});
        const long written = pcm.write(s.device->raw, g.buffer_frames);
        if (written < 0 && written != -EAGAIN) {
            fail(s, AlsaCall::writei, written);
            return false;
        }
    }
    if (const int rc = pcm.start(); rc < 0) {
        fail(s, AlsaCall::start, rc);
        return false;
    }
    const long avail = pcm.avail();
    if (avail < 0) {
        fail(s, AlsaCall::avail, avail);
        return false;
    }
    // Right after the start a device that keeps time has next to nothing to
    // read (or room to write); a software PCM that does not reports a whole
    // buffer at once, and is then paced by the clock.
    const Pacing pacing =
        static_cast<std::size_t>(avail) >= g.period_frames ? Pacing::clock : Pacing::device;
    if (pacing != s.pacing) wake_now_ = true;
    s.pacing = pacing;
    s.counters.pacing.store(static_cast<int>(pacing), std::memory_order_relaxed);
    s.clock_start_ns = now_ns;
    s.clock_frames = 0;
    return true;
}

std::size_t AudioThread::frames_due(Stream& s, std::int64_t now_ns) noexcept {
    const PcmGranted& g = s.device->pcm.granted();
    const std::uint64_t by_clock = frames_for_ns(now_ns - s.clock_start_ns, g.rate_hz);
    if (by_clock <= s.clock_frames) return 0;
    if (by_clock - s.clock_frames > g.buffer_frames) {
        // More than a buffer behind, as after a late wake-up: skip ahead, as
        // a real device would have overrun.
        s.clock_frames = by_clock - g.period_frames;
    }
    return static_cast<std::size_t>(by_clock - s.clock_frames);
}

std::size_t AudioThread::read_capture(Stream& s, std::int64_t now_ns,
                                      std::int64_t& first_ns) noexcept {
    if (!s.device || s.broken) return 0;
    AudioDevice& d = *s.device;
    const PcmGranted& g = d.pcm.granted();
    const long avail = d.pcm.avail();
    if (avail < 0) {
        handle_error(s, AlsaCall::avail, avail, now_ns);
        return 0;
    }
    std::size_t n = std::min(static_cast<std::size_t>(avail), g.buffer_frames);
    first_ns = now_ns - ns_for_frames(static_cast<std::uint64_t>(avail), g.rate_hz);
    if (s.pacing == Pacing::clock) {
        n = std::min(n, frames_due(s, now_ns));
        first_ns = s.clock_start_ns + ns_for_frames(s.clock_frames, g.rate_hz);
    }
    if (n == 0) return 0;
    const long got = d.pcm.read(d.raw, n);
    if (got == -EAGAIN) return 0;
    if (got < 0) {
        handle_error(s, AlsaCall::readi, got, now_ns);
        return 0;
    }
    if (s.pacing == Pacing::clock) {
        s.clock_frames += n;  // time moved on even if the read fell short
    }
    const auto frames = static_cast<std::size_t>(got);
    device_to_float(std::span<const std::byte>(d.raw).first(frames * g.frame_bytes()), g.format,
                    g.channels,
                    std::span<float>(d.samples).first(frames * settings_.capture_channels),
                    settings_.capture_channels);
    return frames;
}

void AudioThread::service_capture(std::int64_t now_ns) noexcept {
    Stream& s = capture_;
    std::int64_t first_ns = 0;
    const std::size_t frames = read_capture(s, now_ns, first_ns);
    if (frames == 0) return;
    const std::size_t count = frames * settings_.capture_channels;
    if (capture_chunks_.write_available() == 0 || capture_samples_.write_available() < count) {
        s.counters.lost_frames.fetch_add(frames, std::memory_order_relaxed);  // the loop is stuck
        return;
    }
    capture_samples_.push_all(std::span<const float>(s.device->samples).first(count));
    capture_chunks_.push(CaptureChunk{first_ns, static_cast<std::uint32_t>(frames)});
    s.counters.frames.fetch_add(frames, std::memory_order_relaxed);
    frames_since_wake_ += frames;
}

void AudioThread::service_music(std::int64_t now_ns) noexcept {
    Stream& s = music_;
    std::int64_t first_ns = 0;
    const std::size_t frames = read_capture(s, now_ns, first_ns);
    if (frames == 0) return;
    const auto samples =
        std::span<const float>(s.device->samples).first(frames * settings_.capture_channels);
    // Each ring has its own consumer; one that is away loses only its own copy.
    for (SpscRing<float>* ring : {&music_for_listeners_, &music_for_room_}) {
        if (!ring->push_all(samples)) {
            s.counters.lost_frames.fetch_add(frames, std::memory_order_relaxed);
        }
    }
    music_pushed_at_ns_.store(now_ns, std::memory_order_release);
    s.counters.frames.fetch_add(frames, std::memory_order_relaxed);
}

void AudioThread::service_playback(std::int64_t now_ns) noexcept {
    Stream& s = playback_;
    if (!s.device || s.broken) {
        // Nobody hears it: drop it rather than play it late once the device is back.
        playback_samples_.discard(playback_samples_.read_available());
        return;
    }
    AudioDevice& d = *s.device;
    const PcmGranted& g = d.pcm.granted();
    const long avail = d.pcm.avail();
    if (avail < 0) {
        handle_error(s, AlsaCall::avail, avail, now_ns);
        return;
    }
    std::size_t n = std::min(static_cast<std::size_t>(avail), g.buffer_frames);
    if (s.pacing == Pacing::clock) n = std::min(n, frames_due(s, now_ns));
    if (n == 0) return;

    std::span<float> mono = std::span<float>(d.samples).first(n);
    const std::size_t from_ring = playback_samples_.pop_some(mono);
    if (from_ring < n && settings_.talkers_playing != nullptr &&
        settings_.talkers_playing->load(std::memory_order_relaxed)) {
        talk_gaps_.fetch_add(1, std::memory_order_relaxed);
    }
    std::fill(mono.begin() + static_cast<std::ptrdiff_t>(from_ring), mono.end(), 0.0F);
    float_to_device(mono, 1, d.raw, g.format, g.channels);
    const long written = d.pcm.write(d.raw, n);
    if (written == -EAGAIN) return;
    if (written < 0) {
        handle_error(s, AlsaCall::writei, written, now_ns);
        return;
    }
    if (s.pacing == Pacing::clock) s.clock_frames += n;
    s.counters.frames.fetch_add(static_cast<std::uint64_t>(written), std::memory_order_relaxed);
    s.counters.played_frames.fetch_add(from_ring, std::memory_order_relaxed);
}

bool AudioThread::handle_error(Stream& s, AlsaCall call, long code, std::int64_t now_ns) noexcept {
    if (code == -EAGAIN || code == -EINTR) return true;
    if (code == -ESTRPIPE) {
        // Suspended (the system slept). snd_pcm_recover would wait for the
        // resume in 1 s sleeps on this thread; the keeper reopens it instead.
        fail(s, call, code);
        return false;
    }
    if (code == -EPIPE) {  // xrun
        s.counters.xruns.fetch_add(1, std::memory_order_relaxed);
        if (const int rc = s.device->pcm.recover(static_cast<int>(code)); rc < 0) {
            fail(s, AlsaCall::recover, rc);
            return false;
        }
        return start_stream(s, now_ns);
    }
    fail(s, call, code);
    return false;
}

void AudioThread::fail(Stream& s, AlsaCall call, long code) noexcept {
    s.fail_call.store(static_cast<int>(call), std::memory_order_relaxed);
    s.fail_code.store(static_cast<int>(code), std::memory_order_relaxed);
    s.broken = true;
    s.pacing = Pacing::unknown;
    s.counters.pacing.store(static_cast<int>(Pacing::unknown), std::memory_order_relaxed);
    hand_back(s);
    wake_now_ = true;
}

void AudioThread::hand_back(Stream& s) noexcept {
    if (s.broken && s.failed.put(s.device)) s.broken = false;
}

}  // namespace clubvoice
