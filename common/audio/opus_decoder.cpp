#include "opus_decoder.hpp"

#include <fmt/format.h>

namespace clubvoice {

OpusDecoder::OpusDecoder(int channels) : channels_(channels) {
    int err = OPUS_OK;
    decoder_.reset(opus_decoder_create(kSampleRateHz, channels, &err));
    if (err != OPUS_OK || !decoder_) {
        throw OpusError(fmt::format("opus_decoder_create({} Hz, {} ch)", kSampleRateHz, channels),
                        err);
    }
}

int OpusDecoder::decode(std::string_view packet, std::span<float> out) {
    return run(packet, out, false);
}

int OpusDecoder::decode_fec(std::string_view next_packet, std::span<float> out) {
    return run(next_packet, out, true);
}

int OpusDecoder::run(std::string_view packet, std::span<float> out, bool fec) {
    const auto capacity = static_cast<int>(out.size() / static_cast<std::size_t>(channels_));
    const int n = opus_decode_float(
        decoder_.get(),
        packet.empty() ? nullptr : reinterpret_cast<const unsigned char*>(packet.data()),
        static_cast<opus_int32>(packet.size()), out.data(), capacity, fec ? 1 : 0);
    if (n < 0) {
        throw OpusError(
            fmt::format("opus_decode_float({} bytes{})", packet.size(), fec ? ", fec" : ""), n);
    }
    return n;
}

}  // namespace clubvoice
