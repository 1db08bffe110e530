#include "dsp/capture_dsp.hpp"

#include "dsp/level_meter.hpp"

namespace clubvoice::dsp {

CaptureDsp::CaptureDsp(double sample_rate_hz, std::size_t channels,
                       const CaptureDspSettings& settings)
    : sample_rate_hz_(sample_rate_hz), channels_(channels) {
    settings_.highpass_hz = -1.0;  // differs from any setting, so configure builds every stage
    settings_.gate = !settings.gate;
    configure(settings);
}

void CaptureDsp::configure(const CaptureDspSettings& settings) {
    gain_ = static_cast<float>(db_to_gain(settings.gain_db));
    if (settings.highpass_hz != settings_.highpass_hz) {
        highpass_.clear();
        if (settings.highpass_hz > 0.0) {
            highpass_.assign(channels_, Biquad::high_pass(sample_rate_hz_, settings.highpass_hz));
        }
    }
    if (!settings.gate) {
        gate_.reset();
    } else if (!gate_) {
        gate_.emplace(sample_rate_hz_, settings.gate_threshold_db);
    } else {
        gate_->set_threshold_db(settings.gate_threshold_db);
    }
    settings_ = settings;
}

void CaptureDsp::process(std::span<float> interleaved) {
    if (settings_.gain_db != 0.0) {
        for (float& s : interleaved) s *= gain_;
    }
    for (std::size_t c = 0; c < highpass_.size(); ++c) {
        highpass_[c].process(interleaved.subspan(c), channels_);
    }
    if (gate_) gate_->process(interleaved, channels_);
}

}  // namespace clubvoice::dsp
