#include "mpv_replies.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace clubvoice {

std::uint64_t MpvReplies::feed(std::string_view data) {
    std::uint64_t refused = 0;
    pending_.append(data);
    std::size_t start = 0;
    for (std::size_t end = pending_.find('\n'); end != std::string::npos;
         end = pending_.find('\n', start)) {
        const std::string_view line(pending_.data() + start, end - start);
        start = end + 1;
        ++lines_;
        const auto reply = nlohmann::json::parse(line, nullptr, false);
        // Events ({"event": ...}) carry no error; command replies do.
        if (!reply.is_object()) continue;
        const auto error = reply.find("error");
        if (error == reply.end() || *error == "success") continue;
        ++refused;
        std::string text = error->dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
        if (text.size() > kMaxErrorChars) text = text.substr(0, kMaxErrorChars) + "...";
        last_error_ = std::move(text);
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxLineBytes) {  // not mpv, or not well: skip the line
        dropped_bytes_ += pending_.size();
        pending_.clear();
    }
    return refused;
}

}  // namespace clubvoice
