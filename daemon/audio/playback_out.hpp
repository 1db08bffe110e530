// Where the talkers' mix goes: the audio engine's playback ring, as the
// engine hands it out (AudioEngine::playback_out), and the music the room
// hears with it. Called on the talk mixer's thread with the mixer's lock held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace clubvoice {

struct PlaybackOut {
    std::function<std::size_t()> queued;               // samples waiting to be played
    std::function<bool(std::span<const float>)> play;  // false: dropped (ring full)
    std::function<void(bool active)> talking;          // a talker is playing (any thread)
    // Adds the room's music to a mono mix at CLOCK_MONOTONIC `now_ns`; false:
    // none to add. Never waits and never allocates.
    std::function<bool(std::span<float> mono, std::int64_t now_ns)> music;
};

}  // namespace clubvoice
