// A sound device opened by the loop, with the buffers the audio thread uses
// with it, so the thread needs no memory of its own after a reopen.
// Thread: made on the loop, used by the audio thread once handed over
// (Handoff), closed by whichever holds it last.
#pragma once

#include "alsa_pcm.hpp"

#include <cstddef>
#include <vector>

namespace clubvoice {

struct AudioDevice {
    // Sizes the buffers for one ALSA buffer of the device, and locks them.
    AudioDevice(AlsaPcm opened, std::size_t pipeline_channels);

    AlsaPcm pcm;
    std::vector<std::byte> raw;  // one buffer of device frames
    std::vector<float> samples;  // one buffer of frames in the pipeline's layout
};

}  // namespace clubvoice
