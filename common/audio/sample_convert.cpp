#include "sample_convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace clubvoice {
namespace {

float load(const std::byte* p, SampleFormat format) {
    switch (format) {
        case SampleFormat::s16: {
            std::int16_t v;
            std::memcpy(&v, p, sizeof v);
            return static_cast<float>(v) / 32768.0F;
        }
        case SampleFormat::s32: {
            std::int32_t v;
            std::memcpy(&v, p, sizeof v);
            return static_cast<float>(static_cast<double>(v) / 2147483648.0);
        }
        case SampleFormat::f32: {
            float v;
            std::memcpy(&v, p, sizeof v);
            return v;
        }
    }
    return 0.0F;
}

// The same scale both ways (2^15, 2^31), so every integer sample survives a
// round trip; +1.0 clips to the largest positive value.
void store(float x, std::byte* p, SampleFormat format) {
    switch (format) {
        case SampleFormat::s16: {
            const double v = std::clamp(std::nearbyint(x * 32768.0), -32768.0, 32767.0);
            const auto i = static_cast<std::int16_t>(v);
            std::memcpy(p, &i, sizeof i);
            return;
        }
        case SampleFormat::s32: {
            const double v =
                std::clamp(std::nearbyint(x * 2147483648.0), -2147483648.0, 2147483647.0);
            const auto i = static_cast<std::int32_t>(v);
            std::memcpy(p, &i, sizeof i);
            return;
        }
        case SampleFormat::f32: {
            const float v = std::clamp(x, -1.0F, 1.0F);
            std::memcpy(p, &v, sizeof v);
            return;
        }
    }
}

// Sample `c` of an output frame, given an accessor for the input frame's samples.
template <typename Get>
float map_channel(Get get, std::size_t in_channels, std::size_t out_channels, std::size_t c) {
    if (in_channels == out_channels) return get(c);
    if (in_channels == 1) return get(0);
    if (out_channels == 1) {
        float sum = 0.0F;
        for (std::size_t i = 0; i < in_channels; ++i) sum += get(i);
        return sum / static_cast<float>(in_channels);
    }
    return c < in_channels ? get(c) : 0.0F;
}

}  // namespace

std::size_t bytes_per_sample(SampleFormat format) {
    return format == SampleFormat::s16 ? 2 : 4;
}

std::string_view to_string(SampleFormat format) {
    switch (format) {
        case SampleFormat::s16:
            return "S16";
        case SampleFormat::s32:
            return "S32";
        case SampleFormat::f32:
            return "FLOAT";
    }
    return "?";
}

void device_to_float(std::span<const std::byte> in, SampleFormat format, std::size_t in_channels,
                     std::span<float> out, std::size_t out_channels) noexcept {
    const std::size_t width = bytes_per_sample(format);
    const std::size_t frames =
        std::min(in.size() / (width * in_channels), out.size() / out_channels);
    for (std::size_t f = 0; f < frames; ++f) {
        const std::byte* frame = in.data() + f * width * in_channels;
        auto get = [&](std::size_t c) { return load(frame + c * width, format); };
        for (std::size_t c = 0; c < out_channels; ++c) {
            out[f * out_channels + c] = map_channel(get, in_channels, out_channels, c);
        }
    }
}

void float_to_device(std::span<const float> in, std::size_t in_channels, std::span<std::byte> out,
                     SampleFormat format, std::size_t out_channels) noexcept {
    const std::size_t width = bytes_per_sample(format);
    const std::size_t frames =
        std::min(in.size() / in_channels, out.size() / (width * out_channels));
    for (std::size_t f = 0; f < frames; ++f) {
        const float* frame = in.data() + f * in_channels;
        auto get = [&](std::size_t c) { return frame[c]; };
        for (std::size_t c = 0; c < out_channels; ++c) {
            store(map_channel(get, in_channels, out_channels, c),
                  out.data() + (f * out_channels + c) * width, format);
        }
    }
}

}  // namespace clubvoice
