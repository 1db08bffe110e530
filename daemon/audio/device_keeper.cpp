#include "device_keeper.hpp"

#include "audio_device.hpp"
#include "log.hpp"

#include <alsa/asoundlib.h>

#include <algorithm>
#include <utility>

namespace clubvoice {
namespace {

constexpr std::uint64_t kFirstRetryMs = 500;
constexpr std::uint64_t kLongestRetryMs = 5000;
constexpr std::uint64_t kXrunReportMs = 10000;  // at most one xrun line per device this often

}  // namespace

DeviceKeeper::DeviceKeeper(uv_loop_t* loop, AudioThread& thread, Endpoint endpoint,
                           PcmRequest request, std::size_t pipeline_channels)
    : loop_(loop),
      thread_(thread),
      endpoint_(endpoint),
      request_(std::move(request)),
      pipeline_channels_(pipeline_channels),
      xrun_log_(kXrunReportMs) {}

void DeviceKeeper::open_now() {
    backoff_ms_ = kFirstRetryMs;
    try_open();
}

void DeviceKeeper::stop() {
    retry_.close();
}

void DeviceKeeper::try_open() {
    // A PCM added to the asoundrc since the last open is only seen with a fresh configuration.
    snd_config_update_free_global();
    std::unique_ptr<AudioDevice> device;
    try {
        device = std::make_unique<AudioDevice>(AlsaPcm::open(request_), pipeline_channels_);
    } catch (const AlsaError& e) {
        ++open_failures_;
        went_down(e.what());
        return;
    }
    granted_ = device->pcm.granted();
    if (!thread_.offer(endpoint_, device)) {
        // The thread has not taken the previous device yet; try again shortly.
        ++open_failures_;
        went_down("the audio thread still holds the previous device");
        return;
    }
    const bool was_down_after_open = opened_before_;
    if (opened_before_) ++reopens_;
    opened_before_ = true;
    up_ = true;
    pacing_ = Pacing::unknown;
    log::notice("{} \"{}\" {}: {}", to_string(endpoint_), request_.device,
                was_down_after_open ? "is back" : "opened", granted_->describe());
    problem_.clear();
    backoff_ms_ = kFirstRetryMs;
}

void DeviceKeeper::poll() {
    const auto& counters = thread_.counters(endpoint_);
    AudioThread::Failure failure = thread_.take_failed(endpoint_);
    if (failure.device) {
        ++device_failures_;
        failure.device.reset();  // closes it
        backoff_ms_ = kFirstRetryMs;
        went_down(alsa_call_error(to_string(failure.call), request_.direction, request_.device,
                                  failure.code));
        return;
    }
    report_xruns();
    const auto pacing = static_cast<Pacing>(counters.pacing.load(std::memory_order_relaxed));
    if (up_ && pacing != pacing_ && pacing != Pacing::unknown) {
        pacing_ = pacing;
        if (pacing == Pacing::clock) {
            log::info(
                "{} \"{}\": the device does not keep time (a software PCM); the audio "
                "thread paces it by the system clock",
                to_string(endpoint_), request_.device);
        }
    }
}

void DeviceKeeper::report_xruns() {
    const std::uint64_t xruns = thread_.counters(endpoint_).xruns.load(std::memory_order_relaxed);
    xrun_log_.update(xruns, uv_now(loop_), [&](std::uint64_t fresh, std::uint64_t total) {
        log::warning("{} \"{}\": {} {} (sound dropped out and was recovered), {} in all",
                     to_string(endpoint_), request_.device, fresh,
                     request_.direction == PcmDirection::capture ? "overrun(s)" : "underrun(s)",
                     total);
    });
}

void DeviceKeeper::went_down(std::string problem) {
    const bool news = !up_ ? problem != problem_ : true;
    up_ = false;
    pacing_ = Pacing::unknown;
    if (news) {
        log::warning("{} device down: {}; retrying every {:.1f} to {:.0f} s", to_string(endpoint_),
                     problem, kFirstRetryMs / 1000.0, kLongestRetryMs / 1000.0);
    }
    problem_ = std::move(problem);
    retry_later();
}

void DeviceKeeper::retry_later() {
    const std::uint64_t delay = backoff_ms_;
    backoff_ms_ = std::min(backoff_ms_ * 2, kLongestRetryMs);
    retry_ = start_timer(loop_, delay, 0, [this] { try_open(); });
}

}  // namespace clubvoice
