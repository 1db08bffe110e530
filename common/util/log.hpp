// Operator-facing logging to stderr.
//
// Levels are the sd-daemon priorities. When systemd connects stderr to the
// journal (JOURNAL_STREAM is set) every line starts with "<N>" so journald
// keeps the level; otherwise lines read "level: message". The level is
// checked before anything is formatted. Thread: loop (and main before it);
// never the audio thread.
#pragma once

#include <fmt/core.h>

#include <array>
#include <string_view>
#include <utility>

namespace clubvoice::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// Each level's name, as log lines and the configuration (log.level) spell it.
inline constexpr std::array<std::pair<std::string_view, Level>, 5> kLevelNames{{
    {"error", Level::error},
    {"warning", Level::warning},
    {"notice", Level::notice},
    {"info", Level::info},
    {"debug", Level::debug},
}};
std::string_view level_name(Level level);

// Decides between journal prefixes and plain lines from JOURNAL_STREAM.
void init_from_environment();
void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

template <typename... Args>
void at(Level lvl, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(lvl)) write(lvl, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
    at(Level::error, format, std::forward<Args>(args)...);
}
template <typename... Args>
void warning(fmt::format_string<Args...> format, Args&&... args) {
    at(Level::warning, format, std::forward<Args>(args)...);
}
template <typename... Args>
void notice(fmt::format_string<Args...> format, Args&&... args) {
    at(Level::notice, format, std::forward<Args>(args)...);
}
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    at(Level::info, format, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
    at(Level::debug, format, std::forward<Args>(args)...);
}

}  // namespace clubvoice::log
