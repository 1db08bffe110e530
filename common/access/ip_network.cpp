#include "ip_network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include <arpa/inet.h>

namespace clubvoice {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > 64) return std::nullopt;
    std::string copy(text);  // inet_pton needs a terminated string
    IpAddress out;
    if (inet_pton(AF_INET, copy.c_str(), out.bytes.data()) == 1) return out;
    if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) != 1) return std::nullopt;
    if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), out.bytes.begin())) {
        std::array<std::uint8_t, 16> v4{};
        std::copy_n(out.bytes.begin() + 12, 4, v4.begin());
        out.bytes = v4;
        return out;
    }
    out.v4 = false;
    return out;
}

std::string IpAddress::to_string() const {
    std::array<char, INET6_ADDRSTRLEN> text{};
    inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text.data(), text.size());
    return text.data();
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text, std::string* problem) {
    auto fail = [&](std::string why) -> std::optional<IpNetwork> {
        if (problem != nullptr) *problem = std::move(why);
        return std::nullopt;
    };
    std::size_t slash = text.find('/');
    std::optional<IpAddress> base = IpAddress::parse(text.substr(0, slash));
    if (!base) return fail(fmt::format("\"{}\" is not an IP address or network", text));
    const int bits = base->v4 ? 32 : 128;
    int prefix = bits;
    if (slash != std::string_view::npos) {
        std::string_view length = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), prefix);
        if (ec != std::errc{} || end != length.data() + length.size() || prefix < 0 ||
            prefix > bits) {
            return fail(fmt::format("\"{}\": the prefix length must be 0 to {}", text, bits));
        }
    }
    IpNetwork network{*base, prefix};
    // Host bits set ("10.1.2.3/8") would silently mean something else: refuse.
    for (int bit = prefix; bit < bits; ++bit) {
        if ((base->bytes[bit / 8] >> (7 - bit % 8)) & 1) {
            return fail(fmt::format("\"{}\" has bits set past its prefix length", text));
        }
    }
    return network;
}

bool IpNetwork::contains(const IpAddress& address) const {
    if (address.v4 != base.v4) return false;
    int whole = prefix / 8;
    if (!std::equal(base.bytes.begin(), base.bytes.begin() + whole, address.bytes.begin())) {
        return false;
    }
    int rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (base.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

bool in_any(std::span<const IpNetwork> networks, const IpAddress& address) {
    return std::any_of(networks.begin(), networks.end(),
                       [&](const IpNetwork& n) { return n.contains(address); });
}

}  // namespace clubvoice
