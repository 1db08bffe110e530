#include "utf8.hpp"

#include <fmt/format.h>

namespace clubvoice {
namespace {

// The length of the well-formed sequence starting at text[i], or 0 when the
// bytes there are not one. The second byte's range excludes overlongs,
// surrogates and code points past U+10FFFF.
std::size_t sequence_length(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) return 1;
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (text.size() - i < len) return 0;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < lo || second > hi) return 0;
    for (std::size_t k = 2; k < len; ++k) {
        if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
    }
    return len;
}

// C0 controls, DEL, C1 controls (U+0080..U+009F, C2 80..C2 9F) and the line
// and paragraph separators U+2028/U+2029 (E2 80 A8/A9): characters that
// break a line in a list of names or steer a terminal.
bool is_control(std::string_view ch) {
    const auto c0 = static_cast<unsigned char>(ch[0]);
    if (ch.size() == 1) return c0 < 0x20 || c0 == 0x7f;
    const auto c1 = static_cast<unsigned char>(ch[1]);
    if (ch.size() == 2) return c0 == 0xc2 && c1 < 0xa0;
    if (ch.size() == 3) {
        const auto c2 = static_cast<unsigned char>(ch[2]);
        return c0 == 0xe2 && c1 == 0x80 && (c2 == 0xa8 || c2 == 0xa9);
    }
    return false;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t len = sequence_length(text, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

CleanedText clean_client_text(std::string_view text, std::size_t max_bytes) {
    CleanedText out;
    bool full = false;  // cut here; the rest is still checked
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t len = sequence_length(text, i);
        if (len == 0) {
            out.text.clear();
            out.problem = fmt::format("not valid UTF-8 (byte {})", i);
            return out;
        }
        const std::string_view ch = text.substr(i, len);
        i += len;
        if (full || is_control(ch)) continue;
        if (ch == " " && out.text.empty()) continue;  // leading spaces
        if (out.text.size() + len > max_bytes) {
            full = true;  // whole characters only
            continue;
        }
        out.text.append(ch);
    }
    while (!out.text.empty() && out.text.back() == ' ') out.text.pop_back();
    return out;
}

}  // namespace clubvoice
