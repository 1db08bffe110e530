#include "talk_mixer.hpp"

#include "monotonic_clock.hpp"

#include <algorithm>

namespace clubvoice {
namespace {

constexpr std::size_t kMaxMixSamples = std::size_t{48} * 400;
constexpr std::size_t kStackBytes = std::size_t{256} * 1024;
constexpr std::int64_t kNsPerSample = 20'833;  // at 48 kHz

std::int64_t tick_ns(int period_ms) {
    // Half a period: the ring is topped up well before the device needs it.
    return std::int64_t{std::clamp(period_ms / 2, 2, 5)} * 1'000'000;
}

}  // namespace

TalkMixer::TalkMixer(uv_loop_t* loop, PlaybackOut out, std::function<void(bool loud)> on_loud)
    : loop_(loop),
      out_(std::move(out)),
      on_loud_(std::move(on_loud)),
      mix_(kMaxMixSamples),
      scratch_(kMaxMixSamples) {}

TalkMixer::~TalkMixer() {
    stop();
}

void TalkMixer::start(int priority) {
    assert_on_loop();
    stop();
    loud_changed_ = UvAsync([this] {
        if (on_loud_) on_loud_(loud_.load(std::memory_order_relaxed));
    });
    uv_check(uv_async_init(loop_, loud_changed_.get(), &UvAsync::trampoline<>), "uv_async_init");
    loud_changed_.mark_initialised();
    stop_.store(false);
    last_mix_ns_ = monotonic_ns();
    thread_.start([this] { run(); }, priority, kStackBytes);
}

void TalkMixer::stop() {
    assert_on_loop();
    stop_.store(true);
    thread_.join();
    loud_changed_.close();  // after the join: the thread sends on it
}

void TalkMixer::run() noexcept {
    std::int64_t deadline = monotonic_ns();
    while (!stop_.load(std::memory_order_relaxed)) {
        std::int64_t interval = 0;
        {
            // The interval is a setting; read it without waiting for the loop.
            std::unique_lock<std::mutex> guard(mutex_, std::try_to_lock);
            interval = tick_ns(guard ? settings_.period_ms : 10);
        }
        deadline += interval;
        sleep_until_ns(deadline);
        const std::int64_t now = monotonic_ns();
        if (now - deadline > interval) {
            late_ticks_.fetch_add(1, std::memory_order_relaxed);
            deadline = now;  // too late to catch up tick by tick: restart the schedule
        }
        tick(now);
    }
}

void TalkMixer::tick(std::int64_t now_ns) noexcept {
    std::unique_lock<std::mutex> guard(mutex_, std::try_to_lock);
    if (!guard) {
        busy_skips_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    mix(now_ns);
    ++figures_.ticks;
    figures_.longest_tick_ns = std::max(figures_.longest_tick_ns, monotonic_ns() - now_ns);
}

void TalkMixer::mix(std::int64_t now) noexcept {
    const auto elapsed =
        static_cast<std::size_t>(std::max<std::int64_t>(0, now - last_mix_ns_) / kNsPerSample);
    last_mix_ns_ = now;
    const auto period = static_cast<std::size_t>(settings_.period_ms) * 48;
    const std::size_t target = std::max<std::size_t>(2 * period, 480);
    const std::size_t queued = out_.queued();
    // Never more than the clock allows: with the playback device down the
    // ring stays empty, and the talkers still play out at real time.
    std::size_t want = queued < target ? target - queued : 0;
    want = std::min({want, elapsed + period, mix_.size()});

    bool any = false;
    if (want > 0) {
        std::span<float> mix = std::span<float>(mix_).first(want);
        std::fill(mix.begin(), mix.end(), 0.0F);
        any = out_.music && out_.music(mix, now);
        for (auto& [id, t] : talkers_) {
            if (!t->mix_into(mix, scratch_, settings_.gain, settings_.silence_threshold_db, now)) {
                continue;
            }
            any = true;
            if (const std::int64_t d = t->jitter().last_playout_delay_ns(); d >= 0) {
                const double ms = static_cast<double>(d) / 1e6;
                auto& f = figures_;
                f.mic_to_ring_last_ms = ms;
                f.mic_to_ring_avg_ms =
                    f.mic_to_ring_avg_ms < 0
                        ? ms
                        : f.mic_to_ring_avg_ms + 0.05 * (ms - f.mic_to_ring_avg_ms);
                f.mic_to_ring_max_ms = std::max(f.mic_to_ring_max_ms, ms);
            }
        }
        if (any) {
            limiter_.process(mix);
            if (!out_.play(mix)) figures_.ring_drops += want;
        }
    }
    bool playing = false;
    bool loud = false;
    for (const auto& [id, t] : talkers_) {
        playing = playing || t->jitter().playing();
        loud = loud || (settings_.duck_room && t->level_dbfs() > settings_.duck_threshold_db);
    }
    if (playing != active_) {
        active_ = playing;
        if (out_.talking) out_.talking(playing);
    }
    if (loud != loud_.load(std::memory_order_relaxed)) {
        loud_.store(loud, std::memory_order_relaxed);
        uv_async_send(loud_changed_.get());
    }
}

TalkMixer::Figures TalkMixer::figures() const {
    Figures f = figures_;
    f.busy_skips = busy_skips_.load(std::memory_order_relaxed);
    f.late_ticks = late_ticks_.load(std::memory_order_relaxed);
    f.limiter_reduction_db = limiter_.gain_reduction_db();
    return f;
}

}  // namespace clubvoice
