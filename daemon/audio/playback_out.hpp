// Where the talkers' mix goes: the audio engine's playback ring, as the
// engine hands it out (AudioEngine::playback_out). Called on the talk
// mixer's thread with the mixer's lock held.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

namespace clubvoice {

struct PlaybackOut {
    std::function<std::size_t()> queued;               // samples waiting to be played
    std::function<bool(std::span<const float>)> play;  // false: dropped (ring full)
    std::function<void(bool active)> talking;          // a talker is playing (any thread)
};

}  // namespace clubvoice
