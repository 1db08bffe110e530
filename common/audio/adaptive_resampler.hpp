// A resampler whose ratio can be nudged while it runs (RAII over speexdsp's
// resampler), for a second sound card whose clock drifts against the room's.
//
// speexdsp rather than libsoxr: PulseAudio's loopback corrects exactly this
// drift with it, it changes its ratio in place keeping the filter's phase (no
// click), and its state never grows after construction once it has seen the
// largest ratio it will be given, which the constructor arranges, so
// process() and set_correction() allocate nothing: the talk mixer's thread
// may call them.
//
// Thread: one owner.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

struct SpeexResamplerState_;

namespace clubvoice {

class AdaptiveResampler {
  public:
    // Corrections stay within +/- this (1 %: far beyond any crystal's drift).
    static constexpr double kMaxCorrection = 0.01;

    // `quality` is speexdsp's 0..10. Throws std::runtime_error when speexdsp refuses.
    AdaptiveResampler(std::size_t channels, unsigned in_rate_hz, unsigned out_rate_hz,
                      int quality = 4);

    std::size_t channels() const { return channels_; }
    unsigned in_rate_hz() const { return in_rate_; }
    unsigned out_rate_hz() const { return out_rate_; }

    // Consume input this much faster (> 0) or slower than the nominal rates
    // say, to follow a drifting clock; clamped to +/- kMaxCorrection.
    void set_correction(double correction) noexcept;
    double correction() const { return correction_; }
    // Input frames per output frame now in force.
    double ratio() const;

    struct Result {
        std::size_t consumed = 0;  // input frames
        std::size_t produced = 0;  // output frames
    };
    // Interleaved frames in, interleaved frames out, as many as both allow.
    Result process(std::span<const float> in, std::span<float> out) noexcept;

  private:
    struct Destroy {
        void operator()(SpeexResamplerState_* s) const;
    };

    std::size_t channels_;
    unsigned in_rate_;
    unsigned out_rate_;
    double correction_ = 0.0;
    std::unique_ptr<SpeexResamplerState_, Destroy> state_;
};

}  // namespace clubvoice
