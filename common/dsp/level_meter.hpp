// Signal levels in dBFS.
//
// RMS levels are relative to a full-scale square wave (every sample at ±1.0),
// so a full-scale sine reads -3.01 dBFS. Silence reads kSilenceDbfs rather
// than -infinity, which JSON cannot carry. Thread: any (pure functions).
#pragma once

#include <span>

namespace clubvoice::dsp {

inline constexpr float kSilenceDbfs = -120.0F;

// Linear amplitude (1.0 = full scale) to dBFS, floored at kSilenceDbfs.
float amplitude_to_dbfs(double amplitude);
// dB to a linear gain factor.
double db_to_gain(double db);

float rms_dbfs(std::span<const float> samples);
float peak_dbfs(std::span<const float> samples);

}  // namespace clubvoice::dsp
