// An Opus decoder at 48 kHz (RAII over libopus' OpusDecoder). Used by the
// tests to check what listeners receive, and by the talk path for what
// browsers send. Thread: one owner.
#pragma once

#include "opus_error.hpp"

#include <opus/opus.h>

#include <memory>
#include <span>
#include <string_view>

namespace clubvoice {

class OpusDecoder {
  public:
    static constexpr int kSampleRateHz = 48000;
    // Samples per channel in the longest Opus packet (120 ms).
    static constexpr int kMaxFrameSamples = kSampleRateHz * 120 / 1000;

    explicit OpusDecoder(int channels);

    int channels() const { return channels_; }

    // Decodes one packet into `out` (interleaved); returns the samples per
    // channel written. An empty packet conceals one lost frame of out.size()
    // samples. Throws OpusError for a corrupt packet or a too small `out`.
    int decode(std::string_view packet, std::span<float> out);
    // Recovers the frame before `next_packet` from its in-band FEC data (or
    // conceals it when there is none); out.size() must be that frame's length.
    int decode_fec(std::string_view next_packet, std::span<float> out);

  private:
    struct Destroy {
        void operator()(::OpusDecoder* d) const { opus_decoder_destroy(d); }
    };
    int run(std::string_view packet, std::span<float> out, bool fec);

    int channels_;
    std::unique_ptr<::OpusDecoder, Destroy> decoder_;
};

}  // namespace clubvoice
