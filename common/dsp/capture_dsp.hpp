// The processing applied to the captured room sound before it is encoded:
// gain, then a high-pass that removes rumble and hum, then the noise gate.
// Each stage can be switched off. Thread: loop.
#pragma once

#include "dsp/biquad.hpp"
#include "dsp/noise_gate.hpp"

#include <optional>
#include <span>
#include <vector>

namespace clubvoice::dsp {

struct CaptureDspSettings {
    double gain_db = 0.0;        // 0: no gain stage
    double highpass_hz = 100.0;  // 0: no high-pass
    bool gate = false;
    double gate_threshold_db = -50.0;

    bool operator==(const CaptureDspSettings&) const = default;
};

class CaptureDsp {
  public:
    CaptureDsp(double sample_rate_hz, std::size_t channels, const CaptureDspSettings& settings);

    // Changes the settings; filter and gate state survive where the stage stays the same.
    void configure(const CaptureDspSettings& settings);
    const CaptureDspSettings& settings() const { return settings_; }

    // Processes one block of interleaved audio in place.
    void process(std::span<float> interleaved);

  private:
    double sample_rate_hz_;
    std::size_t channels_;
    CaptureDspSettings settings_;
    float gain_ = 1.0F;
    std::vector<Biquad> highpass_;  // one per channel; empty when off
    std::optional<NoiseGate> gate_;
};

}  // namespace clubvoice::dsp
