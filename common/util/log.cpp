#include "log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace clubvoice::log {
namespace {

std::atomic<Level> current_level{Level::notice};
std::atomic<bool> journal_prefixes{false};

}  // namespace

std::string_view level_name(Level lvl) {
    for (const auto& [text, l] : kLevelNames) {
        if (l == lvl) return text;
    }
    return "unknown";
}

void init_from_environment() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    journal_prefixes = stream != nullptr && *stream != '\0';
}

void set_level(Level lvl) {
    current_level = lvl;
}
bool enabled(Level lvl) {
    return static_cast<int>(lvl) <= static_cast<int>(current_level.load());
}

void write(Level lvl, std::string_view message) {
    // One fwrite per line so concurrent writers (lws's log hook) never interleave
    // inside a line.
    std::string line;
    line.reserve(message.size() + 16);
    if (journal_prefixes) {
        line += '<';
        line += static_cast<char>('0' + static_cast<int>(lvl));
        line += '>';
    } else {
        line += level_name(lvl);
        line += ": ";
    }
    line += message;
    if (line.back() != '\n') line += '\n';
    // A failed write to stderr has nowhere to be reported.
    static_cast<void>(std::fwrite(line.data(), 1, line.size(), stderr));
}

}  // namespace clubvoice::log
