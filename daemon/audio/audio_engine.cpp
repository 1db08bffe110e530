#include "audio_engine.hpp"

#include "dsp/level_meter.hpp"
#include "log.hpp"
#include "loop_thread.hpp"
#include "opus_error.hpp"
#include "realtime.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace clubvoice {
namespace {

constexpr unsigned kRateHz = 48000;
constexpr std::size_t kScratchFrames = 4096;
constexpr std::uint64_t kLateReportMs = 10000;  // at most one late wake-up line this often

// CLOCK_REALTIME ms of a CLOCK_MONOTONIC instant, by today's offset between the clocks.
std::int64_t realtime_ms(std::int64_t monotonic_ns) {
    timespec mono{};
    timespec real{};
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    const std::int64_t offset_ns =
        (static_cast<std::int64_t>(real.tv_sec) - mono.tv_sec) * 1'000'000'000 +
        (real.tv_nsec - mono.tv_nsec);
    return (monotonic_ns + offset_ns) / 1'000'000;
}

bool needs_restart(const Config& a, const Config& b) {
    return a.audio.capture.device != b.audio.capture.device ||
           a.audio.playback.device != b.audio.playback.device ||
           a.audio.music.device != b.audio.music.device ||
           a.audio.capture.channels != b.audio.capture.channels ||
           a.audio.frame_ms != b.audio.frame_ms || a.audio.period_ms != b.audio.period_ms ||
           a.audio.buffer_ms != b.audio.buffer_ms || a.audio.rt_priority != b.audio.rt_priority;
}

}  // namespace

AudioEngine::AudioEngine(uv_loop_t* loop, const Config& config, FrameSink sink)
    : loop_(loop),
      config_(config),
      sink_(std::move(sink)),
      dsp_(kRateHz, static_cast<std::size_t>(config.audio.capture.channels), dsp_settings(config)),
      ducker_(ducker_settings(config), kRateHz),
      encoder_(config.audio.capture.channels, opus_settings(config)),
      late_log_(kLateReportMs) {
    build_pipeline();
}

AudioEngine::~AudioEngine() {
    stop();
}

dsp::CaptureDspSettings AudioEngine::dsp_settings(const Config& config) {
    const auto& c = config.audio.capture;
    return {c.gain_db, static_cast<double>(c.highpass_hz), c.gate, c.gate_threshold_db};
}

dsp::Ducker::Settings AudioEngine::ducker_settings(const Config& config) {
    const auto& d = config.ducking.room;
    return {static_cast<float>(d.gain_db), static_cast<float>(d.attack_ms),
            static_cast<float>(d.release_ms)};
}

OpusEncoderSettings AudioEngine::opus_settings(const Config& config) {
    const auto& o = config.opus;
    return {o.bitrate_kbps, o.application == OpusApplication::voip, o.complexity, o.fec,
            o.packet_loss_pct};
}

void AudioEngine::build_pipeline() {
    const auto channels = static_cast<std::size_t>(config_.audio.capture.channels);
    const auto frame_length = static_cast<std::size_t>(config_.audio.frame_ms) * kRateHz / 1000;
    assembler_ = std::make_unique<FrameAssembler>(frame_length, channels, kRateHz);
    scratch_.assign(kScratchFrames * channels, 0.0F);
}

void AudioEngine::start() {
    assert_on_loop();
    if (thread_) return;
    route_alsa_errors_to_log();
    const auto& audio = config_.audio;
    const auto channels = static_cast<std::size_t>(audio.capture.channels);

    wake_ = UvAsync([this] { on_wake(); });
    uv_check(uv_async_init(loop_, wake_.get(), &UvAsync::trampoline<>), "uv_async_init");
    wake_.mark_initialised();

    AudioThread::Settings settings;
    settings.period_ms = audio.period_ms;
    settings.rt_priority = audio.rt_priority;
    settings.capture_channels = channels;
    settings.wake_frames = assembler_->frame_length();
    settings.talkers_playing = &talkers_playing_;
    thread_ = std::make_unique<AudioThread>(settings, wake_.get());

    auto request = [&](const std::string& device, PcmDirection direction, unsigned ch) {
        return PcmRequest{device,
                          direction,
                          kRateHz,
                          ch,
                          static_cast<unsigned>(audio.period_ms) * 1000,
                          static_cast<unsigned>(audio.buffer_ms) * 1000};
    };
    capture_ = std::make_unique<DeviceKeeper>(
        loop_, *thread_, Endpoint::capture,
        request(audio.capture.device, PcmDirection::capture, static_cast<unsigned>(channels)),
        channels);
    // Talkers are mono; the conversion copies them to every channel the device has.
    playback_ = std::make_unique<DeviceKeeper>(
        loop_, *thread_, Endpoint::playback,
        request(audio.playback.device, PcmDirection::playback, 1), 1);
    capture_->open_now();
    playback_->open_now();
    if (!audio.music.device.empty()) {
        music_ = std::make_unique<MusicInput>(loop_, *thread_, config_);
        music_->set_envelope(music_envelope_);
    }

    // Locked before the thread starts: its rings are allocated, and its own
    // stack is locked as it is mapped.
    std::string lock_problem;
    if (memory_locking_available()) lock_problem = lock_memory();
    thread_->start();
    realtime_ = thread_->thread().realtime();
    memory_locked_ = memory_locking_available() && lock_problem.empty();

    std::string refused = thread_->thread().refused();
    if (!lock_problem.empty()) refused += (refused.empty() ? "" : "; ") + lock_problem;
    if (!refused.empty()) {
        log::warning(
            "audio thread: {}; it runs {}, so sound may drop out while the machine is "
            "busy (grant CAP_SYS_NICE and CAP_IPC_LOCK, or LimitRTPRIO= and "
            "LimitMEMLOCK=)",
            refused, realtime_ ? "with unlocked memory" : "at normal priority");
    } else {
        log::notice("audio thread: {}, memory {}, period {} ms, frames of {} ms",
                    realtime_ ? fmt::format("SCHED_FIFO priority {}", audio.rt_priority)
                              : std::string("normal priority (audio.rt_priority is 0)"),
                    memory_locked_ ? "locked" : "not locked (sanitizer build)", audio.period_ms,
                    audio.frame_ms);
    }
}

void AudioEngine::stop() {
    assert_on_loop();
    if (!thread_) return;
    const double cpu = thread_->thread().cpu_seconds();
    thread_->stop();
    Figures total = figures();
    total.cpu_seconds = carried_.cpu_seconds + cpu;
    carried_ = total;
    capture_->stop();
    playback_->stop();
    music_.reset();
    capture_.reset();
    playback_.reset();
    thread_.reset();
    late_log_.restart_count();  // the next thread counts from 0
    wake_.close();
    assembler_->clear();
}

void AudioEngine::apply(const Config& config) {
    assert_on_loop();
    const bool running = thread_ != nullptr;
    const bool restart = needs_restart(config_, config);
    const bool new_channels = config.audio.capture.channels != config_.audio.capture.channels;
    if (restart && running) {
        log::notice("audio: restarting the audio thread for the new device settings");
        stop();
    }
    config_ = config;
    if (new_channels) {
        const auto channels = static_cast<std::size_t>(config.audio.capture.channels);
        dsp_ = dsp::CaptureDsp(kRateHz, channels, dsp_settings(config));
        encoder_ = OpusEncoder(config.audio.capture.channels, opus_settings(config));
    } else {
        dsp_.configure(dsp_settings(config));
        encoder_.configure(opus_settings(config));
    }
    ducker_.apply(ducker_settings(config));
    if (music_ && !restart) music_->apply(config);
    if (!config.ducking.room.enabled) ducker_.set_ducked(false);
    if (restart) build_pipeline();
    if (restart && running) start();
}

PlaybackOut AudioEngine::playback_out() {
    return {[this] { return playback_queued(); },
            [this](std::span<const float> mix) { return play(mix); },
            [this](bool active) { set_talkers_playing(active); },
            [this](std::span<float> mono, std::int64_t now_ns) {
                return music_ && music_->add_to_room(mono, now_ns);
            }};
}

bool AudioEngine::play(std::span<const float> mono_48k) {
    if (thread_ && thread_->playback_samples().push_all(mono_48k)) return true;
    playback_ring_drops_.fetch_add(mono_48k.size(), std::memory_order_relaxed);
    return false;
}

std::size_t AudioEngine::playback_queued() const {
    return thread_ ? thread_->playback_samples().read_available() : 0;
}

void AudioEngine::set_room_ducked(bool ducked) {
    assert_on_loop();
    ducker_.set_ducked(ducked && config_.ducking.room.enabled);
}

bool AudioEngine::capture_up() const {
    return capture_ && capture_->up();
}
bool AudioEngine::playback_up() const {
    return playback_ && playback_->up();
}

std::string AudioEngine::capture_problem() const {
    return capture_ ? capture_->problem() : "the audio engine is stopped";
}
std::string AudioEngine::playback_problem() const {
    return playback_ ? playback_->problem() : "the audio engine is stopped";
}

std::uint64_t AudioEngine::heartbeat() const {
    return figures().heartbeat;
}

void AudioEngine::on_wake() {
    assert_on_loop();
    try {
        capture_->poll();
        playback_->poll();
        if (music_) music_->poll();
        report_late_wakeups();
        drain_capture();
    } catch (const std::exception& e) {
        log::error("audio: {}", e.what());  // nothing may unwind into libuv
    }
}

void AudioEngine::report_late_wakeups() {
    late_log_.update(thread_->late_wakeups(), uv_now(loop_),
                     [&](std::uint64_t fresh, std::uint64_t total) {
                         log::warning(
                             "audio thread: woke {} time(s) more than a period late ({} in all); "
                             "the machine is too busy for audio.period_ms {}",
                             fresh, total, config_.audio.period_ms);
                     });
}

void AudioEngine::drain_capture() {
    auto& chunks = thread_->capture_chunks();
    auto& samples = thread_->capture_samples();
    const std::size_t channels = assembler_->channels();
    CaptureChunk chunk{};
    while (chunks.pop(chunk)) {
        std::size_t left = chunk.frames;
        std::int64_t first_ns = chunk.first_sample_ns;
        while (left > 0) {
            const std::size_t n = std::min(left, kScratchFrames);
            const std::size_t got =
                samples.pop_some(std::span<float>(scratch_).first(n * channels));
            assembler_->add(first_ns, std::span<const float>(scratch_).first(got),
                            [this](std::span<float> frame, std::int64_t ns) { encode(frame, ns); });
            first_ns += static_cast<std::int64_t>(n) * 1'000'000'000 / kRateHz;
            left -= n;
        }
    }
}

void AudioEngine::encode(std::span<float> frame, std::int64_t first_sample_ns) {
    dsp_.process(frame);
    level_dbfs_ = dsp::rms_dbfs(frame);  // the room itself, before any ducking
    if (room_listener_) {
        try {
            room_listener_(frame, config_.audio.capture.channels);
        } catch (const std::exception& e) {
            log::error("audio: room listener: {}", e.what());
        }
    }
    ducker_.process(frame, config_.audio.capture.channels);
    if (music_) {
        // On the room's clock: the moment the frame ends, however late the loop is.
        const auto frame_ns =
            static_cast<std::int64_t>(assembler_->frame_length()) * 1'000'000'000 / kRateHz;
        music_->mix_for_listeners(frame, first_sample_ns + frame_ns);
        mix_limiter_.process(frame);
    }
    const auto started = std::chrono::steady_clock::now();
    std::string_view packet;
    try {
        packet = encoder_.encode(frame);
    } catch (const OpusError& e) {
        if (encode_errors_++ == 0) log::error("audio: {}", e.what());
        return;
    }
    const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - started)
                                                   .count());
    encode_ns_total_ += ns;
    encode_ns_max_ = std::max(encode_ns_max_, ns);
    encoded_bytes_ += packet.size();
    try {
        sink_(EncodedFrame{seq_++, realtime_ms(first_sample_ns), packet});
    } catch (const std::exception& e) {
        // Unwinding further would leave the capture rings half drained.
        log::error("audio: frame sink: {}", e.what());
    }
}

}  // namespace clubvoice
