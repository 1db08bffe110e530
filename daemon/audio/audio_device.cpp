#include "audio_device.hpp"

#include "realtime.hpp"

#include <utility>

namespace clubvoice {

AudioDevice::AudioDevice(AlsaPcm opened, std::size_t pipeline_channels)
    : pcm(std::move(opened)),
      raw(pcm.granted().buffer_frames * pcm.granted().frame_bytes()),
      samples(pcm.granted().buffer_frames * pipeline_channels) {
    // Allocated on a reopen, after the memory was locked: lock these too.
    lock_buffer(raw.data(), raw.size());
    lock_buffer(samples.data(), samples.size() * sizeof(float));
}

}  // namespace clubvoice
