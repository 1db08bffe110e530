#include "talker.hpp"

#include "dsp/level_meter.hpp"

#include <algorithm>

namespace clubvoice {
namespace {

// A client may be up to this much audio ahead of the clock: a network stall
// of a second is forgiven when the backlog arrives.
constexpr double kBudgetMs = 1000.0;
// Over-budget packets within one window that mark a flood rather than a
// burst after a stall (1,000 packets/s reach it in about a quarter second).
constexpr std::uint64_t kFloodPackets = 250;
constexpr std::int64_t kFloodWindowNs = 2'000'000'000;
// How quickly the displayed level falls (per mixed block) after a peak.
constexpr float kLevelFallDb = 1.5F;

}  // namespace

Talker::Talker(TalkerId who, const JitterSettings& jitter, std::int64_t now_ns)
    : who_(std::move(who)),
      jitter_(jitter),
      last_voice_ns_(now_ns),
      budget_ms_(kBudgetMs),
      budget_at_ns_(now_ns),
      window_start_ns_(now_ns) {}

Talker::Arrival Talker::arrive(std::optional<std::uint64_t> seq, std::string_view opus, int samples,
                               std::int64_t now_ns) {
    budget_ms_ =
        std::min(kBudgetMs, budget_ms_ + static_cast<double>(now_ns - budget_at_ns_) / 1'000'000.0);
    budget_at_ns_ = now_ns;
    if (now_ns - window_start_ns_ > kFloodWindowNs) {
        window_start_ns_ = now_ns;
        window_over_ = 0;
    }
    const double ms = samples / 48.0;
    if (budget_ms_ < ms) {
        return ++window_over_ > kFloodPackets ? Arrival::flooding : Arrival::over_budget;
    }
    budget_ms_ -= ms;
    const std::uint64_t n = seq.value_or(next_seq_);
    next_seq_ = n + 1;
    return jitter_.push(n, opus, now_ns) ? Arrival::queued : Arrival::dropped;
}

bool Talker::mix_into(std::span<float> mix, std::span<float> scratch, float gain,
                      float silence_threshold_db, std::int64_t now_ns) {
    std::span<float> voice = scratch.first(mix.size());
    const std::size_t got = jitter_.pull(voice, now_ns);
    const float level = got > 0 ? dsp::rms_dbfs(voice) : dsp::kSilenceDbfs;
    level_dbfs_ = std::max(level, level_dbfs_ - kLevelFallDb);
    if (level > silence_threshold_db) last_voice_ns_ = now_ns;
    if (got == 0) return false;
    for (std::size_t i = 0; i < mix.size(); ++i) mix[i] += voice[i] * gain;
    return true;
}

}  // namespace clubvoice
