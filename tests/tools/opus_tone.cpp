// Decodes a stream of Opus packets and reports which tone it carries: the
// tests' ear. Input on stdin: packets, each preceded by its length as a
// 4-byte little-endian integer. Output: one JSON line
//   {"packets":N,"samples":N,"dominant_hz":F,"rms_dbfs":F}
// where dominant_hz is the strongest of 50..4000 Hz in steps of 10 Hz
// (Goertzel), measured after the first 100 ms (the codec's start-up).
// With --pcm it writes the decoded mono sound instead, as float32 samples at
// 48 kHz, for tests that look at more than one tone.
// Usage: opus-tone [--channels N] [--pcm]
#include "opus_decoder.hpp"

#include <fmt/core.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace {

double goertzel_power(std::span<const float> x, double hz, double rate) {
    const double w = 2.0 * std::numbers::pi * hz / rate;
    const double coeff = 2.0 * std::cos(w);
    double s1 = 0.0;
    double s2 = 0.0;
    for (float v : x) {
        double s0 = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

}  // namespace

int main(int argc, char** argv) {
    int channels = 1;
    bool pcm = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--channels") == 0 && i + 1 < argc)
            channels = std::atoi(argv[++i]);
        if (std::strcmp(argv[i], "--pcm") == 0) pcm = true;
    }
    clubvoice::OpusDecoder decoder(channels);
    std::vector<float> frame(static_cast<std::size_t>(clubvoice::OpusDecoder::kMaxFrameSamples) *
                             static_cast<std::size_t>(channels));
    std::vector<float> mono;
    std::size_t packets = 0;
    std::uint8_t header[4];
    std::string packet;
    while (std::fread(header, 1, 4, stdin) == 4) {
        std::uint32_t length = header[0] | (header[1] << 8) | (header[2] << 16) |
                               (static_cast<std::uint32_t>(header[3]) << 24);
        packet.resize(length);
        if (length > 0 && std::fread(packet.data(), 1, length, stdin) != length) break;
        int n = decoder.decode(packet, frame);
        for (int i = 0; i < n; ++i) {
            float sum = 0.0F;
            for (int c = 0; c < channels; ++c)
                sum += frame[static_cast<std::size_t>(i * channels + c)];
            mono.push_back(sum / static_cast<float>(channels));
        }
        ++packets;
    }
    if (pcm) {
        std::fwrite(mono.data(), sizeof(float), mono.size(), stdout);
        return 0;
    }
    constexpr double kRate = 48000.0;
    std::span<const float> body(mono);
    if (body.size() > 4800) body = body.subspan(4800);
    double best_hz = 0.0;
    double best = -1.0;
    for (double hz = 50.0; hz <= 4000.0; hz += 10.0) {
        double p = goertzel_power(body, hz, kRate);
        if (p > best) {
            best = p;
            best_hz = hz;
        }
    }
    double energy = 0.0;
    for (float v : body) energy += static_cast<double>(v) * v;
    double rms = body.empty() ? 0.0 : std::sqrt(energy / static_cast<double>(body.size()));
    fmt::print("{{\"packets\":{},\"samples\":{},\"dominant_hz\":{},\"rms_dbfs\":{:.1f}}}\n",
               packets, mono.size(), best_hz, 20.0 * std::log10(std::max(rms, 1e-9)));
    return 0;
}
