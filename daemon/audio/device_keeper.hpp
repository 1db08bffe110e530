// Keeps one sound device (capture or playback) open for the audio thread:
// opens it, hands it over, and when it is missing or fails, says why once and
// reopens it with back-off (0.5 s doubling to 5 s). alsa-lib caches its
// configuration, so the cache is dropped before every attempt: a PCM added to
// the asoundrc later is then found. Thread: loop.
#pragma once

#include "alsa_pcm.hpp"
#include "audio_thread.hpp"
#include "rate_limited_log.hpp"
#include "uv_handles.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace clubvoice {

class DeviceKeeper {
  public:
    // `pipeline_channels`: the layout the audio thread converts to (capture,
    // music) or from (playback: 1).
    DeviceKeeper(uv_loop_t* loop, AudioThread& thread, Endpoint endpoint, PcmRequest request,
                 std::size_t pipeline_channels);

    // Tries to open the device now; on failure keeps trying in the background.
    void open_now();
    // Picks up what the audio thread reported: a failed device, how the stream is paced.
    void poll();
    // Stops retrying (the audio thread must be stopped first).
    void stop();

    bool up() const { return up_; }
    const std::string& problem() const { return problem_; }  // empty while up
    // What the device granted at the last successful open.
    const std::optional<PcmGranted>& granted() const { return granted_; }
    Pacing pacing() const { return pacing_; }
    std::uint64_t reopens() const { return reopens_; }  // successful opens after the first
    std::uint64_t open_failures() const { return open_failures_; }
    std::uint64_t device_failures() const { return device_failures_; }  // lost while running

  private:
    void try_open();
    void report_xruns();
    void went_down(std::string problem);
    void retry_later();

    uv_loop_t* loop_;
    AudioThread& thread_;
    Endpoint endpoint_;
    PcmRequest request_;
    std::size_t pipeline_channels_;
    UvTimer retry_;

    bool up_ = false;
    bool opened_before_ = false;
    std::string problem_ = "not opened yet";
    std::optional<PcmGranted> granted_;
    Pacing pacing_ = Pacing::unknown;
    std::uint64_t backoff_ms_ = 0;
    std::uint64_t reopens_ = 0;
    std::uint64_t open_failures_ = 0;
    std::uint64_t device_failures_ = 0;
    RateLimitedLog xrun_log_;
};

}  // namespace clubvoice
