#include "opus_encoder.hpp"

#include <fmt/format.h>

namespace clubvoice {
namespace {

// The largest packet libopus produces is 1275 bytes per 20 ms; 60 ms frames
// may carry three of them.
constexpr std::size_t kMaxPacketBytes = 4000;

void check(int rc, const char* call) {
    if (rc != OPUS_OK) throw OpusError(call, rc);
}

}  // namespace

OpusEncoder::OpusEncoder(int channels, const OpusEncoderSettings& settings)
    : channels_(channels), settings_(settings), packet_(kMaxPacketBytes) {
    configure(settings);  // creates the encoder, as there is none yet
}

void OpusEncoder::configure(const OpusEncoderSettings& settings) {
    if (!encoder_ || settings.voip != settings_.voip) {
        int err = OPUS_OK;
        encoder_.reset(opus_encoder_create(
            kSampleRateHz, channels_,
            settings.voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO, &err));
        if (err != OPUS_OK || !encoder_) {
            throw OpusError(
                fmt::format("opus_encoder_create({} Hz, {} ch)", kSampleRateHz, channels_), err);
        }
    }
    settings_ = settings;
    apply_settings();
}

void OpusEncoder::apply_settings() {
    ::OpusEncoder* e = encoder_.get();
    check(opus_encoder_ctl(e, OPUS_SET_BITRATE(settings_.bitrate_kbps * 1000)), "OPUS_SET_BITRATE");
    // Constrained VBR: the bitrate may follow the signal but stays near the
    // target, which is what sizes each listener's bandwidth.
    check(opus_encoder_ctl(e, OPUS_SET_VBR(1)), "OPUS_SET_VBR");
    check(opus_encoder_ctl(e, OPUS_SET_VBR_CONSTRAINT(1)), "OPUS_SET_VBR_CONSTRAINT");
    check(opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(settings_.complexity)), "OPUS_SET_COMPLEXITY");
    check(opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(settings_.fec ? 1 : 0)), "OPUS_SET_INBAND_FEC");
    check(opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(settings_.packet_loss_pct)),
          "OPUS_SET_PACKET_LOSS_PERC");
}

int OpusEncoder::lookahead() const {
    opus_int32 samples = 0;
    check(opus_encoder_ctl(encoder_.get(), OPUS_GET_LOOKAHEAD(&samples)), "OPUS_GET_LOOKAHEAD");
    return samples;
}

std::string_view OpusEncoder::encode(std::span<const float> interleaved) {
    const auto frame = static_cast<int>(interleaved.size() / static_cast<std::size_t>(channels_));
    const opus_int32 n = opus_encode_float(encoder_.get(), interleaved.data(), frame,
                                           packet_.data(), static_cast<opus_int32>(packet_.size()));
    if (n < 0) throw OpusError(fmt::format("opus_encode_float({} samples)", frame), n);
    return {reinterpret_cast<const char*>(packet_.data()), static_cast<std::size_t>(n)};
}

}  // namespace clubvoice
