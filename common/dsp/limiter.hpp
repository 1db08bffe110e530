// A peak limiter for the talkers' mix: |output| never exceeds the ceiling.
//
// A peak envelope follows the signal with instant attack and an exponential
// release; the gain is ceiling / envelope whenever the envelope is above the
// ceiling. Because the envelope is never below the current sample, the output
// stays within the ceiling without clipping, and because it releases slowly
// the gain barely moves within one waveform period (no added distortion of
// steady loud tones). No look-ahead: no added latency. Thread: one owner.
#pragma once

#include <span>

namespace clubvoice::dsp {

class Limiter {
  public:
    explicit Limiter(float ceiling_dbfs = -1.0F, float release_ms = 80.0F, int rate_hz = 48000);

    // Mono, or interleaved channels: each sample is limited against the shared envelope.
    void process(std::span<float> samples);

    // Current gain reduction in dB (0 while the signal is under the ceiling, > 0 while limiting).
    float gain_reduction_db() const;

  private:
    float ceiling_;
    float release_;       // per-sample decay factor of the envelope
    float envelope_ = 0;  // linear peak
};

}  // namespace clubvoice::dsp
