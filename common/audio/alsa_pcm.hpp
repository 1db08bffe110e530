// An open ALSA PCM (RAII over snd_pcm_t), set up for the audio thread:
// interleaved read/write access, non-blocking I/O, explicit start, and the
// parameters the device actually granted.
//
// open() runs on the loop thread (it allocates and may take a while); the
// I/O calls below are thin, noexcept and allocation-free, for the audio
// thread. One thread uses a PCM at a time; handing it over needs a
// release/acquire pair (the audio thread's hand-off slots provide it).
#pragma once

#include "sample_convert.hpp"

#include <alsa/asoundlib.h>

#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace clubvoice {

enum class PcmDirection { capture, playback };
std::string_view to_string(PcmDirection direction);  // "capture", "playback"

// "snd_pcm_open(capture, \"hw:1\"): No such device" for a negative ALSA error code.
std::string alsa_call_error(std::string_view call, PcmDirection direction, std::string_view device,
                            int code);

class AlsaError : public std::runtime_error {
  public:
    AlsaError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }  // negative errno, as ALSA returns it

  private:
    int code_;
};

struct PcmRequest {
    std::string device;
    PcmDirection direction = PcmDirection::capture;
    unsigned rate_hz = 48000;  // anything else is refused (see any_rate)
    unsigned channels = 1;     // the nearest the device offers is taken
    unsigned period_us = 10000;
    unsigned buffer_us = 40000;  // raised to two periods when smaller
    bool any_rate = false;       // accept 8..64 kHz: the caller resamples
};

struct PcmGranted {
    unsigned rate_hz = 0;
    unsigned channels = 0;
    SampleFormat format = SampleFormat::s16;
    std::size_t period_frames = 0;
    std::size_t buffer_frames = 0;

    double period_ms() const { return 1000.0 * static_cast<double>(period_frames) / rate_hz; }
    double buffer_ms() const { return 1000.0 * static_cast<double>(buffer_frames) / rate_hz; }
    std::size_t frame_bytes() const { return channels * bytes_per_sample(format); }
    // "48000 Hz, 1 ch, S16, period 480 frames (10.0 ms), buffer 1920 frames (40.0 ms)"
    std::string describe() const;
};

class AlsaPcm {
  public:
    // Opens and configures the device. Throws AlsaError naming the failing
    // call, the direction and the device.
    static AlsaPcm open(const PcmRequest& request);

    const PcmGranted& granted() const { return granted_; }

    // Audio-thread calls. Negative results are ALSA error codes.
    snd_pcm_sframes_t avail() noexcept { return snd_pcm_avail(pcm_.get()); }
    snd_pcm_sframes_t read(std::span<std::byte> buffer, std::size_t frames) noexcept {
        return snd_pcm_readi(pcm_.get(), buffer.data(), frames);
    }
    snd_pcm_sframes_t write(std::span<const std::byte> buffer, std::size_t frames) noexcept {
        return snd_pcm_writei(pcm_.get(), buffer.data(), frames);
    }
    // Recovers from an xrun or a suspend (snd_pcm_recover, silently); the
    // stream is then prepared and needs start().
    int recover(int error) noexcept { return snd_pcm_recover(pcm_.get(), error, 1); }
    int start() noexcept { return snd_pcm_start(pcm_.get()); }

  private:
    struct Close {
        void operator()(snd_pcm_t* pcm) const { snd_pcm_close(pcm); }
    };
    AlsaPcm(snd_pcm_t* pcm, const PcmRequest& request)
        : pcm_(pcm), device_(request.device), direction_(request.direction) {}
    void configure(const PcmRequest& request);

    std::unique_ptr<snd_pcm_t, Close> pcm_;
    std::string device_;
    PcmDirection direction_;
    PcmGranted granted_;
};

// alsa-lib prints its own errors to stderr. After this call they go to the
// debug log instead, except on threads marked quiet (the audio thread must
// not log). Thread: call once from the loop thread, before opening devices.
void route_alsa_errors_to_log();
// Drops alsa-lib's error prints made on the calling thread.
void quiet_alsa_errors_on_this_thread();

}  // namespace clubvoice
