#include "adaptive_resampler.hpp"

#include <speex/speex_resampler.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace clubvoice {

void AdaptiveResampler::Destroy::operator()(SpeexResamplerState_* s) const {
    speex_resampler_destroy(s);
}

AdaptiveResampler::AdaptiveResampler(std::size_t channels, unsigned in_rate_hz,
                                     unsigned out_rate_hz, int quality)
    : channels_(channels), in_rate_(in_rate_hz), out_rate_(out_rate_hz) {
    // Rates above 64 kHz would overflow speexdsp's phase arithmetic (see set_correction).
    if (channels == 0 || channels > 8 || in_rate_hz < 8000 || in_rate_hz > 64000 ||
        out_rate_hz < 8000 || out_rate_hz > 64000) {
        throw std::runtime_error(fmt::format("resampler: {} channel(s) from {} Hz to {} Hz refused",
                                             channels, in_rate_hz, out_rate_hz));
    }
    int err = RESAMPLER_ERR_SUCCESS;
    state_.reset(speex_resampler_init(static_cast<spx_uint32_t>(channels), in_rate_hz, out_rate_hz,
                                      quality, &err));
    if (!state_ || err != RESAMPLER_ERR_SUCCESS) {
        throw std::runtime_error(
            fmt::format("resampler: speex_resampler_init: {}", speex_resampler_strerror(err)));
    }
    // The largest ratio needs the longest filter and the largest buffers;
    // speexdsp only ever grows them, so after this nothing is allocated.
    set_correction(kMaxCorrection);
    set_correction(-kMaxCorrection);
    set_correction(0.0);
    speex_resampler_skip_zeros(state_.get());
}

void AdaptiveResampler::set_correction(double correction) noexcept {
    correction_ = std::clamp(correction, -kMaxCorrection, kMaxCorrection);
    // In steps of 1/in_rate (about 20 ppm at 48 kHz, far below hearing): the
    // ratio's terms must stay below 65536, or speexdsp's 32-bit rescaling of
    // the filter's phase overflows when the ratio changes.
    const auto num = static_cast<spx_uint32_t>(
        std::llround(static_cast<double>(in_rate_) * (1.0 + correction_)));
    speex_resampler_set_rate_frac(state_.get(), num, out_rate_, in_rate_, out_rate_);
}

double AdaptiveResampler::ratio() const {
    spx_uint32_t num = 0;
    spx_uint32_t den = 1;
    speex_resampler_get_ratio(state_.get(), &num, &den);
    return static_cast<double>(num) / static_cast<double>(den);
}

AdaptiveResampler::Result AdaptiveResampler::process(std::span<const float> in,
                                                     std::span<float> out) noexcept {
    auto in_len = static_cast<spx_uint32_t>(in.size() / channels_);
    auto out_len = static_cast<spx_uint32_t>(out.size() / channels_);
    if (in_len == 0 || out_len == 0) return {};
    speex_resampler_process_interleaved_float(state_.get(), in.data(), &in_len, out.data(),
                                              &out_len);
    return {in_len, out_len};
}

}  // namespace clubvoice
