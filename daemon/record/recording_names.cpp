#include "recording_names.hpp"

#include <fmt/format.h>

#include <ctime>

namespace clubvoice {
namespace {

constexpr std::string_view kSuffix = ".opus";
constexpr std::size_t kStampLength = 16;  // YYYYMMDDTHHMMSSZ
constexpr std::int64_t kSecondsPerDay = 86400;

// The number in text[at, at + digits), or -1 when any of it is not a digit.
int digits_at(std::string_view text, std::size_t at, std::size_t digits) {
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

std::string recording_name(std::int64_t unix_seconds) {
    const auto seconds = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z{}", utc.tm_year + 1900, utc.tm_mon + 1,
                       utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, kSuffix);
}

std::optional<std::int64_t> recording_start(std::string_view name) {
    if (name.size() != kStampLength + kSuffix.size() || !name.ends_with(kSuffix) ||
        name[8] != 'T' || name[15] != 'Z') {
        return std::nullopt;
    }
    std::tm utc{};
    utc.tm_year = digits_at(name, 0, 4) - 1900;
    utc.tm_mon = digits_at(name, 4, 2) - 1;
    utc.tm_mday = digits_at(name, 6, 2);
    utc.tm_hour = digits_at(name, 9, 2);
    utc.tm_min = digits_at(name, 11, 2);
    utc.tm_sec = digits_at(name, 13, 2);
    if (utc.tm_year < 0 || utc.tm_mon < 0 || utc.tm_mon > 11 || utc.tm_mday < 1 ||
        utc.tm_mday > 31 || utc.tm_hour < 0 || utc.tm_hour > 23 || utc.tm_min < 0 ||
        utc.tm_min > 59 || utc.tm_sec < 0 || utc.tm_sec > 60) {
        return std::nullopt;
    }
    const std::int64_t start = timegm(&utc);
    // A day that does not exist (20260231) would be normalised into another name.
    if (recording_name(start) != name) return std::nullopt;
    return start;
}

std::vector<std::string> expired_recordings(const std::vector<std::string>& names, std::int64_t now,
                                            int keep_days) {
    std::vector<std::string> expired;
    if (keep_days <= 0) return expired;
    const std::int64_t oldest_kept = now - std::int64_t{keep_days} * kSecondsPerDay;
    for (const std::string& name : names) {
        if (auto start = recording_start(name); start && *start < oldest_kept) {
            expired.push_back(name);
        }
    }
    return expired;
}

}  // namespace clubvoice
