// Prints what encoding one Opus frame costs: the default configuration first,
// then the low-latency and other variants; then what the music input adds to
// each frame (both resamplers, the two mixes, the limiter, the room's voice
// detector). Not a test; run it by hand:
//   build/tests/encode-bench [seconds of audio per case, default 10]
#include "clock_bridge.hpp"
#include "config.hpp"
#include "dsp/capture_dsp.hpp"
#include "dsp/limiter.hpp"
#include "opus_encoder.hpp"
#include "voice_detector.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

namespace clubvoice {
namespace {

// Music-like test sound: a chord with a slow tremolo plus a little noise.
std::vector<float> test_sound(double seconds, int channels) {
    const auto frames = static_cast<std::size_t>(seconds * 48000);
    std::vector<float> out(frames * static_cast<std::size_t>(channels));
    std::uint32_t noise = 1;
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / 48000;
        double v = 0.0;
        for (double f : {220.0, 277.2, 329.6, 440.0})
            v += 0.1 * std::sin(2 * std::numbers::pi * f * t);
        v *= 0.75 + 0.25 * std::sin(2 * std::numbers::pi * 3 * t);
        noise = noise * 1664525U + 1013904223U;
        v += (static_cast<double>(noise >> 8) / 16777216.0 - 0.5) * 0.02;
        for (int c = 0; c < channels; ++c)
            out[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
                static_cast<float>(v);
    }
    return out;
}

void run_case(const std::string& name, const Config& config, double seconds) {
    const int channels = config.audio.capture.channels;
    const auto frame =
        static_cast<std::size_t>(config.audio.frame_ms) * 48 * static_cast<std::size_t>(channels);
    const auto& o = config.opus;
    OpusEncoder encoder(channels, {o.bitrate_kbps, o.application == OpusApplication::voip,
                                   o.complexity, o.fec, o.packet_loss_pct});
    const auto& c = config.audio.capture;
    dsp::CaptureDsp dsp(
        48000, static_cast<std::size_t>(channels),
        {c.gain_db, static_cast<double>(c.highpass_hz), c.gate, c.gate_threshold_db});
    std::vector<float> sound = test_sound(seconds, channels);

    using Clock = std::chrono::steady_clock;
    std::vector<double> encode_us;
    double dsp_us = 0.0;
    std::size_t bytes = 0;
    for (std::size_t at = 0; at + frame <= sound.size(); at += frame) {
        std::span<float> f = std::span<float>(sound).subspan(at, frame);
        const auto t0 = Clock::now();
        dsp.process(f);
        const auto t1 = Clock::now();
        bytes += encoder.encode(f).size();
        const auto t2 = Clock::now();
        dsp_us += std::chrono::duration<double, std::micro>(t1 - t0).count();
        encode_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    std::vector<double> sorted = encode_us;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0.0;
    for (double us : encode_us) sum += us;
    const double avg = sum / static_cast<double>(encode_us.size());
    const double per_second = 1000.0 / config.audio.frame_ms;
    fmt::print(
        "{:<52} encode avg {:6.1f} us  p50 {:6.1f} us  p99 {:7.1f} us  max {:7.1f} us | dsp avg "
        "{:5.1f} us | "
        "{:5.1f} kbit/s | {:5.2f} % of one core\n",
        name, avg, sorted[sorted.size() / 2], sorted[sorted.size() * 99 / 100], sorted.back(),
        dsp_us / static_cast<double>(encode_us.size()),
        static_cast<double>(bytes) * 8 / seconds / 1000,
        (avg + dsp_us / static_cast<double>(encode_us.size())) * per_second / 1e4);
}

// The music path per room frame, as the daemon runs it: the card's periods
// into the rings, the listeners' bridge and mix (and limiter) on the loop, the
// room's bridge and mono mix on the mixer, the voice detector on the room.
void run_music_case(const std::string& name, const Config& config, unsigned music_rate,
                    double seconds) {
    const auto channels = static_cast<std::size_t>(config.audio.capture.channels);
    const auto frame_frames = static_cast<std::size_t>(config.audio.frame_ms) * 48;
    const std::size_t period = music_rate / 100;  // a 10 ms period of the card
    SpscRing<float> for_listeners(65536 * channels);
    SpscRing<float> for_room(65536 * channels);
    std::atomic<std::int64_t> pushed_at{0};
    const double target = 2.0 * config.audio.frame_ms + 30.0;
    ClockBridge listeners(for_listeners, pushed_at, channels, music_rate, 48000, target);
    ClockBridge room(for_room, pushed_at, channels, music_rate, 48000, target);
    dsp::Limiter limiter;
    VoiceDetector detector;
    const std::vector<float> music = test_sound(1.0, static_cast<int>(channels));
    std::vector<float> room_frame(frame_frames * channels, 0.1F);
    std::vector<float> music_frame(frame_frames * channels);
    std::vector<float> mono(frame_frames);

    using Clock = std::chrono::steady_clock;
    double resample_mix_us = 0.0;
    double room_us = 0.0;
    double vad_us = 0.0;
    std::size_t frames = 0;
    std::size_t pushed = 0;
    std::size_t music_at = 0;
    const auto total = static_cast<std::size_t>(seconds * 1000 / config.audio.frame_ms);
    for (std::size_t f = 0; f < total; ++f) {
        const std::int64_t now =
            static_cast<std::int64_t>(f + 1) * config.audio.frame_ms * 1'000'000;
        while (pushed * 1'000'000'000 / music_rate < static_cast<std::size_t>(now)) {
            if (music_at + period * channels > music.size()) music_at = 0;
            const auto chunk = std::span<const float>(music).subspan(music_at, period * channels);
            for_listeners.push_all(chunk);
            for_room.push_all(chunk);
            music_at += period * channels;
            pushed += period;
        }
        pushed_at.store(now);
        const auto t0 = Clock::now();
        listeners.pull(music_frame, now);
        for (std::size_t i = 0; i < room_frame.size(); ++i)
            room_frame[i] = 0.1F + 0.5F * music_frame[i];
        limiter.process(room_frame);
        const auto t1 = Clock::now();
        room.pull(music_frame, now);
        for (std::size_t i = 0; i < frame_frames; ++i) mono[i] = 0.3F * music_frame[i * channels];
        const auto t2 = Clock::now();
        for (std::size_t at = 0; at + 480 * channels <= room_frame.size(); at += 480 * channels) {
            detector.voice(std::span<const float>(room_frame).subspan(at, 480 * channels),
                           static_cast<int>(channels));
        }
        const auto t3 = Clock::now();
        resample_mix_us += std::chrono::duration<double, std::micro>(t1 - t0).count();
        room_us += std::chrono::duration<double, std::micro>(t2 - t1).count();
        vad_us += std::chrono::duration<double, std::micro>(t3 - t2).count();
        ++frames;
    }
    const double n = static_cast<double>(frames);
    const double per_frame = (resample_mix_us + room_us + vad_us) / n;
    fmt::print(
        "{:<52} listeners' bridge + mix {:5.1f} us | room's bridge + mix {:5.1f} us | voice "
        "detector {:5.1f} us | {:5.1f} us per frame, {:5.2f} % of one core\n",
        name, resample_mix_us / n, room_us / n, vad_us / n, per_frame,
        per_frame * (1000.0 / config.audio.frame_ms) / 1e4);
}

}  // namespace
}  // namespace clubvoice

int main(int argc, char** argv) {
    using clubvoice::Config;
    const double seconds = argc > 1 ? std::stod(argv[1]) : 10.0;
    fmt::print("Opus encode cost per frame, 48 kHz, {} s of music-like sound per case\n", seconds);

    const Config defaults = clubvoice::default_config();
    clubvoice::run_case("default (mono, 20 ms, 32 kbit/s, audio, c10, fec)", defaults, seconds);

    Config low_latency = defaults;
    low_latency.audio.frame_ms = 10;
    clubvoice::run_case("low latency (10 ms frames)", low_latency, seconds);

    Config voip = defaults;
    voip.opus.application = clubvoice::OpusApplication::voip;
    clubvoice::run_case("voip", voip, seconds);

    Config cheap = defaults;
    cheap.opus.complexity = 5;
    clubvoice::run_case("complexity 5", cheap, seconds);

    Config stereo = defaults;
    stereo.audio.capture.channels = 2;
    stereo.opus.bitrate_kbps = 64;
    clubvoice::run_case("stereo, 64 kbit/s", stereo, seconds);

    fmt::print("\nThe music input's cost per room frame (on top of the encode above)\n");
    clubvoice::run_music_case("music at 48 kHz (mono, 20 ms frames)", defaults, 48000, seconds);
    clubvoice::run_music_case("music at 44.1 kHz (mono, 20 ms frames)", defaults, 44100, seconds);
    clubvoice::run_music_case("music at 44.1 kHz, stereo", stereo, 44100, seconds);
    return 0;
}
