#include "base64.hpp"

#include <array>
#include <cstdint>

namespace clubvoice {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_reverse_table() {
    std::array<std::uint8_t, 256> table{};
    for (auto& entry : table) entry = kInvalid;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
    }
    return table;
}
constexpr std::array<std::uint8_t, 256> kReverse = make_reverse_table();

std::uint8_t sextet(char c) {
    return kReverse[static_cast<unsigned char>(c)];
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto byte = [&](std::size_t k) -> std::uint32_t {
        return static_cast<unsigned char>(bytes[k]);
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += kAlphabet[v >> 6 & 63];
        out += kAlphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = byte(i) << 16;
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += kAlphabet[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3 - padding);
    const std::size_t full_end = padding == 0 ? text.size() : text.size() - 4;
    for (std::size_t i = 0; i < full_end; i += 4) {
        const std::uint8_t a = sextet(text[i]), b = sextet(text[i + 1]), c = sextet(text[i + 2]),
                           d = sextet(text[i + 3]);
        if (a > 63 || b > 63 || c > 63 || d > 63) return std::nullopt;
        const std::uint32_t v =
            std::uint32_t{a} << 18 | std::uint32_t{b} << 12 | std::uint32_t{c} << 6 | d;
        out += static_cast<char>(v >> 16);
        out += static_cast<char>(v >> 8 & 0xff);
        out += static_cast<char>(v & 0xff);
    }
    if (padding == 0) return out;
    const std::string_view last = text.substr(full_end);
    const std::uint8_t a = sextet(last[0]), b = sextet(last[1]);
    if (a > 63 || b > 63) return std::nullopt;
    if (padding == 2) {
        if ((b & 0x0f) != 0) return std::nullopt;  // bits that no encoder sets
        out += static_cast<char>(a << 2 | b >> 4);
        return out;
    }
    const std::uint8_t c = sextet(last[2]);
    if (c > 63 || (c & 0x03) != 0) return std::nullopt;
    out += static_cast<char>(a << 2 | b >> 4);
    out += static_cast<char>((b & 0x0f) << 4 | c >> 2);
    return out;
}

}  // namespace clubvoice
