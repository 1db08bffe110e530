#include "stream_query.hpp"

#include "utf8.hpp"

#include <algorithm>
#include <string_view>

namespace clubvoice {
namespace {

constexpr std::string_view kTokenArg = "token=";

StreamQuery refuse(std::string why) {
    return {std::nullopt, std::move(why)};
}

bool has_control_characters(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

}  // namespace

StreamQuery check_stream_query(std::span<const std::string> args) {
    if (args.size() > kMaxStreamQueryArgs) return refuse("too many query arguments");
    StreamQuery out;
    for (const std::string& arg : args) {
        const std::string_view text(arg);
        if (text == "token") return refuse("the token argument needs a value (token=TOKEN)");
        if (!text.starts_with(kTokenArg)) continue;
        if (out.token) return refuse("more than one token argument");
        const std::string_view token = text.substr(kTokenArg.size());
        if (token.empty()) return refuse("the token argument is empty");
        if (token.size() > kMaxStreamTokenBytes || !is_valid_utf8(token) ||
            has_control_characters(token)) {
            return refuse("the token argument is not a token");
        }
        out.token = std::string(token);
    }
    return out;
}

}  // namespace clubvoice
