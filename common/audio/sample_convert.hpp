// Conversion between a sound device's sample layout and the float samples
// the audio pipeline works with. No allocation, no exceptions: the audio
// thread calls these. Thread: any (pure functions).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace clubvoice {

// Native-endian interleaved sample formats we ask sound devices for, in order of preference.
enum class SampleFormat { s16, s32, f32 };

std::size_t bytes_per_sample(SampleFormat format);
std::string_view to_string(SampleFormat format);  // "S16", "S32", "FLOAT"

// Channel mapping, both directions: the same count is copied; one channel is
// copied to every channel; many to one are averaged; otherwise channel c is
// copied from channel c, or silent when the source has no channel c.

// Device samples (`in_channels` interleaved) to float samples (`out_channels`
// interleaved). `in` holds frames * in_channels samples; `out` room for
// frames * out_channels.
void device_to_float(std::span<const std::byte> in, SampleFormat format, std::size_t in_channels,
                     std::span<float> out, std::size_t out_channels) noexcept;

// Float samples to device samples, clamped to full scale.
void float_to_device(std::span<const float> in, std::size_t in_channels, std::span<std::byte> out,
                     SampleFormat format, std::size_t out_channels) noexcept;

}  // namespace clubvoice
