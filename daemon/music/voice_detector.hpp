// Whether the room speaks: WebRTC's voice activity detector (from Debian's
// webrtc-audio-processing, its public AudioProcessing interface) on 10 ms
// blocks of the captured room. Unlike a level threshold it does not take a
// steady tone or noise for a voice; tonal music can still read as speech (a
// later step gives it the music input as an echo reference). Thread: one
// owner (the loop: the library takes locks of its own).
#pragma once

#include <memory>
#include <span>

namespace webrtc {
class AudioProcessing;
struct AudioFrame;
}  // namespace webrtc

namespace clubvoice {

class VoiceDetector {
  public:
    static constexpr int kRateHz = 48000;
    static constexpr int kBlockSamples = kRateHz / 100;  // 10 ms, what the detector takes

    // Throws std::runtime_error when the library cannot be set up.
    VoiceDetector();
    ~VoiceDetector();
    VoiceDetector(const VoiceDetector&) = delete;
    VoiceDetector& operator=(const VoiceDetector&) = delete;

    // One 10 ms block of interleaved audio at 48 kHz (`channels` of them,
    // averaged to mono): whether it holds a voice.
    bool voice(std::span<const float> block, int channels = 1);

  private:
    std::unique_ptr<webrtc::AudioProcessing> apm_;
    std::unique_ptr<webrtc::AudioFrame> frame_;
};

}  // namespace clubvoice
