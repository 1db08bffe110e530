#include "dsp/music_duck_state.hpp"

#include <algorithm>
#include <cmath>

namespace clubvoice::dsp {

MusicDuckState::MusicDuckState() : MusicDuckState(Settings{}) {}

MusicDuckState::MusicDuckState(Settings settings)
    : settings_(settings), volume_(settings.normal_volume) {}

void MusicDuckState::apply(Settings settings) {
    settings_ = settings;
    if (!settings_.enabled) ducked_ = false;
}

double MusicDuckState::target() const {
    return ducked_ ? settings_.ducked_volume : settings_.normal_volume;
}

double MusicDuckState::step(bool voice, int frame_ms) {
    if (voice) {
        voice_ms_ += frame_ms;
        silence_ms_ = 0;
    } else {
        silence_ms_ += frame_ms;
        voice_ms_ = 0;
    }
    if (!ducked_) {
        ducked_ = settings_.enabled && voice_ms_ >= settings_.min_duration_ms;
    } else {
        ducked_ = settings_.enabled && silence_ms_ < settings_.release_ms;
    }
    // Counters stop growing once they decided (no overflow over a long run).
    voice_ms_ = std::min(voice_ms_, settings_.min_duration_ms);
    silence_ms_ = std::min(silence_ms_, settings_.release_ms);

    const double goal = target();
    const double span = std::abs(settings_.normal_volume - settings_.ducked_volume);
    const double step = settings_.transition_ms <= 0
                            ? span
                            : span * frame_ms / static_cast<double>(settings_.transition_ms);
    if (std::abs(goal - volume_) <= step || step <= 0.0) {
        volume_ = goal;
    } else {
        volume_ += goal > volume_ ? step : -step;
    }
    return volume_;
}

}  // namespace clubvoice::dsp
