// CLOCK_MONOTONIC in nanoseconds, and an absolute sleep on it: how the
// real-time threads keep to a schedule that does not drift. Thread: any.
#pragma once

#include <cerrno>
#include <cstdint>
#include <ctime>

namespace clubvoice {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;

inline std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

inline void sleep_until_ns(std::int64_t deadline_ns) noexcept {
    timespec ts{};
    ts.tv_sec = deadline_ns / kNsPerSecond;
    ts.tv_nsec = deadline_ns % kNsPerSecond;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

}  // namespace clubvoice
