#include "voice_detector.hpp"

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace clubvoice {
namespace {

void check(int rc, const char* what) {
    if (rc != webrtc::AudioProcessing::kNoError) {
        throw std::runtime_error(std::string("voice detector: ") + what + " failed (" +
                                 std::to_string(rc) + ")");
    }
}

}  // namespace

VoiceDetector::VoiceDetector()
    : apm_(webrtc::AudioProcessing::Create()), frame_(std::make_unique<webrtc::AudioFrame>()) {
    if (!apm_) throw std::runtime_error("voice detector: cannot create WebRTC audio processing");
    using webrtc::AudioProcessing;
    check(apm_->Initialize(kRateHz, kRateHz, kRateHz, AudioProcessing::kMono,
                           AudioProcessing::kMono, AudioProcessing::kMono),
          "Initialize");
    webrtc::VoiceDetection* vad = apm_->voice_detection();
    check(vad->Enable(true), "enabling voice detection");
    // The least likely to call something speech: steady tones and noise stay quiet.
    check(vad->set_likelihood(webrtc::VoiceDetection::kVeryLowLikelihood), "set_likelihood");
    check(vad->set_frame_size_ms(10), "set_frame_size_ms");
    frame_->sample_rate_hz_ = kRateHz;
    frame_->num_channels_ = 1;
    frame_->samples_per_channel_ = kBlockSamples;
}

VoiceDetector::~VoiceDetector() = default;

bool VoiceDetector::voice(std::span<const float> block, int channels) {
    const auto frames =
        std::min<std::size_t>(block.size() / static_cast<std::size_t>(channels), kBlockSamples);
    for (std::size_t i = 0; i < kBlockSamples; ++i) {
        float sum = 0.0F;
        if (i < frames) {
            for (int c = 0; c < channels; ++c) sum += block[i * channels + c];
            sum /= static_cast<float>(channels);
        }
        frame_->data_[i] =
            static_cast<int16_t>(std::lrint(std::clamp(sum, -1.0F, 1.0F) * 32767.0F));
    }
    frame_->samples_per_channel_ = kBlockSamples;
    if (apm_->ProcessStream(frame_.get()) != webrtc::AudioProcessing::kNoError) return false;
    return apm_->voice_detection()->stream_has_voice();
}

}  // namespace clubvoice
