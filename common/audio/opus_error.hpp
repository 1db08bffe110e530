// What the Opus encoder and decoder throw: the libopus call that failed and
// libopus' reason, e.g. "opus_encode_float(960 samples): buffer too small".
// Thread: any (a value).
#pragma once

#include <opus/opus.h>

#include <stdexcept>
#include <string>

namespace clubvoice {

class OpusError : public std::runtime_error {
  public:
    OpusError(const std::string& call, int code)
        : std::runtime_error(call + ": " + opus_strerror(code)), code_(code) {}
    int code() const { return code_; }  // libopus' error code (OPUS_BAD_ARG, ...)

  private:
    int code_;
};

}  // namespace clubvoice
