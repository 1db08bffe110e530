#include "clock_bridge.hpp"

#include <algorithm>

namespace clubvoice {
namespace {

constexpr std::size_t kStagingFrames = 1024;
constexpr double kRetuneS = 0.1;  // the resampler's ratio changes at most this often
constexpr double kTooFull = 4.0;  // times the target: what lies beyond is dropped
// A device gathers sound between pushes for a period at most; beyond this
// it has stopped, and its silence is not sound on its way.
constexpr std::int64_t kLongestGapNs = 50'000'000;
// A consumer may ask on behalf of a moment already past (the loop encoding a
// frame late): the music pushed since then is not yet due.
constexpr std::int64_t kLongestLatenessNs = 200'000'000;

}  // namespace

ClockBridge::ClockBridge(SpscRing<float>& ring, const std::atomic<std::int64_t>& pushed_at_ns,
                         std::size_t channels, unsigned in_rate_hz, unsigned out_rate_hz,
                         double target_ms)
    : ring_(ring),
      pushed_at_ns_(pushed_at_ns),
      channels_(channels),
      in_rate_(in_rate_hz),
      out_rate_(out_rate_hz),
      target_s_(target_ms / 1000.0),
      resampler_(channels, in_rate_hz, out_rate_hz),
      control_(DriftControl::Settings{.target_s = target_ms / 1000.0}),
      staging_(kStagingFrames * channels) {}

std::size_t ClockBridge::input_frames() const noexcept {
    return ring_.read_available() / channels_ + staged_;
}

double ClockBridge::fill_s(std::int64_t now_ns) const noexcept {
    // Read the push time on both sides of the level: a push in between would
    // pair a level with the wrong time.
    std::int64_t pushed = 0;
    std::size_t frames = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        pushed = pushed_at_ns_.load(std::memory_order_acquire);
        frames = input_frames();
        if (pushed_at_ns_.load(std::memory_order_acquire) == pushed) break;
    }
    const std::int64_t since =
        std::clamp<std::int64_t>(now_ns - pushed, -kLongestLatenessNs, kLongestGapNs);
    return static_cast<double>(frames) / in_rate_ + static_cast<double>(since) / 1e9;
}

bool ClockBridge::stage() noexcept {
    staged_at_ = 0;
    staged_ = ring_.pop_some(staging_) / channels_;
    return staged_ > 0;
}

std::size_t ClockBridge::pull(std::span<float> out, std::int64_t now_ns) noexcept {
    const std::size_t wanted = out.size() / channels_;
    auto queued_s = [this] { return static_cast<double>(input_frames()) / in_rate_; };
    if (queued_s() > kTooFull * target_s_) {
        // The consumer was away: keep only the target, the newest sound.
        const auto keep = static_cast<std::size_t>(target_s_ * in_rate_);
        const std::size_t drop = input_frames() - keep;
        const std::size_t from_staging = std::min(drop, staged_);
        staged_at_ += from_staging;
        staged_ -= from_staging;
        ring_.discard((drop - from_staging) * channels_);
        figures_.dropped_frames += drop;
        control_.restart();
    }
    // Start with the target left over once this pull is served, so the fill
    // starts where the controller wants it, not a chunk below.
    if (!playing_ && queued_s() >= target_s_ + static_cast<double>(wanted) / out_rate_) {
        playing_ = true;
        control_.restart();
    }
    std::size_t produced = 0;
    while (playing_ && produced < wanted) {
        if (staged_ == 0 && !stage()) {
            playing_ = false;  // dry: wait for the target again
            ++figures_.underruns;
            break;
        }
        const auto r = resampler_.process(
            std::span<const float>(staging_).subspan(staged_at_ * channels_, staged_ * channels_),
            out.subspan(produced * channels_));
        staged_at_ += r.consumed;
        staged_ -= r.consumed;
        produced += r.produced;
        if (r.consumed == 0 && r.produced == 0) break;  // cannot happen; never spin
    }
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(produced * channels_), out.end(), 0.0F);
    figures_.frames += produced;
    figures_.silent_frames += wanted - produced;

    const double fill = fill_s(now_ns);
    if (playing_) {
        const double elapsed_s = static_cast<double>(wanted) / out_rate_;
        const double correction = control_.update(fill, elapsed_s);
        since_retune_s_ += elapsed_s;
        if (since_retune_s_ >= kRetuneS) {
            since_retune_s_ = 0.0;
            resampler_.set_correction(correction);
        }
    }
    figures_.correction = resampler_.correction();
    figures_.fill_ms =
        (control_.smoothed_fill_s() >= 0.0 ? control_.smoothed_fill_s() : fill) * 1000.0;
    return produced;
}

}  // namespace clubvoice
