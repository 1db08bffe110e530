// An Opus encoder at 48 kHz (RAII over libopus' OpusEncoder).
//
// One encode per audio frame; the packet stays valid until the next encode.
// Errors name the call and libopus' reason. Thread: loop (one owner).
#pragma once

#include "opus_error.hpp"

#include <opus/opus.h>

#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace clubvoice {

struct OpusEncoderSettings {
    int bitrate_kbps = 32;
    bool voip = false;  // OPUS_APPLICATION_VOIP (speech) instead of OPUS_APPLICATION_AUDIO
    int complexity = 10;
    bool fec = true;          // in-band forward error correction (SILK and hybrid modes)
    int packet_loss_pct = 5;  // the loss the encoder plans for; FEC needs it above 0

    bool operator==(const OpusEncoderSettings&) const = default;
};

class OpusEncoder {
  public:
    static constexpr int kSampleRateHz = 48000;

    OpusEncoder(int channels, const OpusEncoderSettings& settings);

    // Applies new settings; a change of application needs a new encoder, which
    // this makes (the next packet then starts without history).
    void configure(const OpusEncoderSettings& settings);
    const OpusEncoderSettings& settings() const { return settings_; }
    int channels() const { return channels_; }
    // Samples (per channel) the encoder delays its output by.
    int lookahead() const;

    // Encodes one frame of interleaved audio (2.5 to 60 ms: 120 to 2880 samples
    // per channel). The view is valid until the next call.
    std::string_view encode(std::span<const float> interleaved);

  private:
    struct Destroy {
        void operator()(::OpusEncoder* e) const { opus_encoder_destroy(e); }
    };
    void apply_settings();

    int channels_;
    OpusEncoderSettings settings_;
    std::unique_ptr<::OpusEncoder, Destroy> encoder_;
    std::vector<unsigned char> packet_;
};

}  // namespace clubvoice
