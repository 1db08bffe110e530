// The names of recording files and which of them have expired: a file is
// named by the UTC second its first sample was recorded, as
// YYYYMMDDTHHMMSSZ.opus (20261130T031500Z.opus), so names sort by time and
// retention needs nothing but the name. Thread: any (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

// "20261130T031500Z.opus" for that many seconds since 1970 (UTC).
std::string recording_name(std::int64_t unix_seconds);

// The start time of a recording's file name; nullopt for any other name (so
// that retention never touches a file the recorder did not name).
std::optional<std::int64_t> recording_start(std::string_view name);

// The names among `names` that started more than `keep_days` days before
// `now` (seconds since 1970); none when keep_days is 0 (keep everything).
std::vector<std::string> expired_recordings(const std::vector<std::string>& names, std::int64_t now,
                                            int keep_days);

}  // namespace clubvoice
