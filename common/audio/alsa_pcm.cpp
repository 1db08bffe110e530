#include "alsa_pcm.hpp"

#include "log.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <utility>

namespace clubvoice {
namespace {

thread_local bool alsa_quiet_thread = false;

struct HwParamsFree {
    void operator()(snd_pcm_hw_params_t* p) const { snd_pcm_hw_params_free(p); }
};
struct SwParamsFree {
    void operator()(snd_pcm_sw_params_t* p) const { snd_pcm_sw_params_free(p); }
};

constexpr std::array<std::pair<SampleFormat, snd_pcm_format_t>, 3> kFormats{{
    {SampleFormat::s16, SND_PCM_FORMAT_S16},
    {SampleFormat::s32, SND_PCM_FORMAT_S32},
    {SampleFormat::f32, SND_PCM_FORMAT_FLOAT},
}};

snd_pcm_format_t alsa_format(SampleFormat format) {
    for (const auto& [ours, theirs] : kFormats) {
        if (ours == format) return theirs;
    }
    return SND_PCM_FORMAT_UNKNOWN;
}

void alsa_error_handler(const char* file, int line, const char* function, int err, const char* fmt,
                        ...) {
    if (alsa_quiet_thread || !log::enabled(log::Level::debug)) return;
    std::array<char, 512> text{};
    va_list args;
    va_start(args, fmt);
    // A longer message is cut short.
    static_cast<void>(std::vsnprintf(text.data(), text.size(), fmt, args));
    va_end(args);
    log::debug("alsa-lib {}:{} ({}): {}{}{}", file, line, function, text.data(),
               err != 0 ? ": " : "", err != 0 ? snd_strerror(err) : "");
}

}  // namespace

std::string_view to_string(PcmDirection direction) {
    return direction == PcmDirection::capture ? "capture" : "playback";
}

std::string alsa_call_error(std::string_view call, PcmDirection direction, std::string_view device,
                            int code) {
    return fmt::format("{}({}, \"{}\"): {}", call, to_string(direction), device,
                       snd_strerror(code));
}

std::string PcmGranted::describe() const {
    return fmt::format(
        "{} Hz, {} ch, {}, period {} frames ({:.1f} ms), buffer {} frames ({:.1f} ms)", rate_hz,
        channels, snd_pcm_format_name(alsa_format(format)), period_frames, period_ms(),
        buffer_frames, buffer_ms());
}

AlsaPcm AlsaPcm::open(const PcmRequest& request) {
    snd_pcm_t* raw = nullptr;
    const int rc =
        snd_pcm_open(&raw, request.device.c_str(),
                     request.direction == PcmDirection::capture ? SND_PCM_STREAM_CAPTURE
                                                                : SND_PCM_STREAM_PLAYBACK,
                     SND_PCM_NONBLOCK);
    if (rc < 0) {
        throw AlsaError(alsa_call_error("snd_pcm_open", request.direction, request.device, rc), rc);
    }
    AlsaPcm pcm(raw, request);
    pcm.configure(request);
    return pcm;
}

void AlsaPcm::configure(const PcmRequest& request) {
    snd_pcm_t* p = pcm_.get();
    auto check = [&](int rc, const char* call) {
        if (rc < 0) throw AlsaError(alsa_call_error(call, direction_, device_, rc), rc);
    };

    snd_pcm_hw_params_t* hw_raw = nullptr;
    check(snd_pcm_hw_params_malloc(&hw_raw), "snd_pcm_hw_params_malloc");
    std::unique_ptr<snd_pcm_hw_params_t, HwParamsFree> hw(hw_raw);
    check(snd_pcm_hw_params_any(p, hw.get()), "snd_pcm_hw_params_any");
    check(snd_pcm_hw_params_set_access(p, hw.get(), SND_PCM_ACCESS_RW_INTERLEAVED),
          "snd_pcm_hw_params_set_access");

    bool have_format = false;
    for (const auto& [ours, theirs] : kFormats) {
        if (snd_pcm_hw_params_test_format(p, hw.get(), theirs) == 0) {
            check(snd_pcm_hw_params_set_format(p, hw.get(), theirs),
                  "snd_pcm_hw_params_set_format");
            granted_.format = ours;
            have_format = true;
            break;
        }
    }
    if (!have_format) {
        throw AlsaError(fmt::format("{} \"{}\": offers none of S16, S32, FLOAT (a plug device such "
                                    "as plughw:N converts)",
                                    to_string(direction_), device_),
                        -EINVAL);
    }

    unsigned channels = request.channels;
    check(snd_pcm_hw_params_set_channels_near(p, hw.get(), &channels),
          "snd_pcm_hw_params_set_channels_near");
    // Lets plug layers resample; a hw device at another rate is refused below.
    check(snd_pcm_hw_params_set_rate_resample(p, hw.get(), 1),
          "snd_pcm_hw_params_set_rate_resample");
    unsigned rate = request.rate_hz;
    check(snd_pcm_hw_params_set_rate_near(p, hw.get(), &rate, nullptr),
          "snd_pcm_hw_params_set_rate_near");
    const bool rate_ok = request.any_rate ? rate >= 8000 && rate <= 64000 : rate == request.rate_hz;
    if (!rate_ok) {
        throw AlsaError(
            request.any_rate
                ? fmt::format("{} \"{}\": runs at {} Hz, outside 8000..64000 Hz (a plug device "
                              "such as plughw:N resamples)",
                              to_string(direction_), device_, rate)
                : fmt::format("{} \"{}\": runs at {} Hz, not {} Hz (a plug device such as "
                              "plughw:N resamples)",
                              to_string(direction_), device_, rate, request.rate_hz),
            -EINVAL);
    }
    unsigned period_us = request.period_us;
    check(snd_pcm_hw_params_set_period_time_near(p, hw.get(), &period_us, nullptr),
          "snd_pcm_hw_params_set_period_time_near");
    unsigned buffer_us = std::max(request.buffer_us, 2 * period_us);
    check(snd_pcm_hw_params_set_buffer_time_near(p, hw.get(), &buffer_us, nullptr),
          "snd_pcm_hw_params_set_buffer_time_near");
    check(snd_pcm_hw_params(p, hw.get()), "snd_pcm_hw_params");

    snd_pcm_uframes_t period = 0;
    snd_pcm_uframes_t buffer = 0;
    check(snd_pcm_hw_params_get_period_size(hw.get(), &period, nullptr),
          "snd_pcm_hw_params_get_period_size");
    check(snd_pcm_hw_params_get_buffer_size(hw.get(), &buffer),
          "snd_pcm_hw_params_get_buffer_size");
    granted_.rate_hz = rate;
    granted_.channels = channels;
    granted_.period_frames = period;
    granted_.buffer_frames = buffer;

    snd_pcm_sw_params_t* sw_raw = nullptr;
    check(snd_pcm_sw_params_malloc(&sw_raw), "snd_pcm_sw_params_malloc");
    std::unique_ptr<snd_pcm_sw_params_t, SwParamsFree> sw(sw_raw);
    check(snd_pcm_sw_params_current(p, sw.get()), "snd_pcm_sw_params_current");
    snd_pcm_uframes_t boundary = 0;
    check(snd_pcm_sw_params_get_boundary(sw.get(), &boundary), "snd_pcm_sw_params_get_boundary");
    // The audio thread starts each stream itself, after it has prefilled playback.
    check(snd_pcm_sw_params_set_start_threshold(p, sw.get(), boundary),
          "snd_pcm_sw_params_set_start_threshold");
    check(snd_pcm_sw_params_set_avail_min(p, sw.get(), period), "snd_pcm_sw_params_set_avail_min");
    check(snd_pcm_sw_params(p, sw.get()), "snd_pcm_sw_params");
}

void route_alsa_errors_to_log() {
    static std::once_flag once;
    std::call_once(once, [] { snd_lib_error_set_handler(&alsa_error_handler); });
}

void quiet_alsa_errors_on_this_thread() {
    alsa_quiet_thread = true;
}

}  // namespace clubvoice
