#include "dsp/level_meter.hpp"

#include <algorithm>
#include <cmath>

namespace clubvoice::dsp {

float amplitude_to_dbfs(double amplitude) {
    if (!(amplitude > 0.0)) return kSilenceDbfs;
    return std::max(kSilenceDbfs, static_cast<float>(20.0 * std::log10(amplitude)));
}

double db_to_gain(double db) {
    return std::pow(10.0, db / 20.0);
}

float rms_dbfs(std::span<const float> samples) {
    if (samples.empty()) return kSilenceDbfs;
    double sum = 0.0;
    for (float s : samples) sum += static_cast<double>(s) * s;
    return amplitude_to_dbfs(std::sqrt(sum / static_cast<double>(samples.size())));
}

float peak_dbfs(std::span<const float> samples) {
    float peak = 0.0F;
    for (float s : samples) peak = std::max(peak, std::abs(s));
    return amplitude_to_dbfs(peak);
}

}  // namespace clubvoice::dsp
