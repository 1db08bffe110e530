// What mpv says on its IPC socket, read line by line: one JSON object per
// line, either a command's reply ({"error": "success", ...}) or an event.
// Pure (no sockets), so what a socket at mpv.ipc_socket sends, whatever it
// is, can be fuzzed; a line longer than any mpv writes is dropped whole.
// Thread: one owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace clubvoice {

class MpvReplies {
  public:
    static constexpr std::size_t kMaxLineBytes = std::size_t{1} << 16;
    static constexpr std::size_t kMaxErrorChars = 120;  // of an error, for the log

    // Takes what arrived; returns the refusals among the complete lines.
    // `last_error` is then the latest one's error, shortened to one line.
    std::uint64_t feed(std::string_view data);

    const std::string& last_error() const { return last_error_; }
    std::uint64_t lines() const { return lines_; }
    std::uint64_t dropped_bytes() const { return dropped_bytes_; }
    std::size_t pending_bytes() const { return pending_.size(); }
    void clear() { pending_.clear(); }

  private:
    std::string pending_;  // up to the next newline
    std::string last_error_;
    std::uint64_t lines_ = 0;
    std::uint64_t dropped_bytes_ = 0;
};

}  // namespace clubvoice
