#include "connection_limits.hpp"

#include <algorithm>
#include <string_view>

namespace clubvoice {

std::string_view to_string(LimitRefusal refusal) {
    switch (refusal) {
        case LimitRefusal::none:
            return "admitted";
        case LimitRefusal::server_full:
            return "the server is full (server.max_clients)";
        case LimitRefusal::address_full:
            return "too many sessions from this address (server.max_clients_per_ip)";
        case LimitRefusal::too_fast:
            return "sessions opened too fast from this address "
                   "(server.handshakes_per_ip_per_s)";
    }
    return "?";
}

std::size_t ConnectionLimits::Hash::operator()(const IpAddress& a) const {
    std::string_view bytes(reinterpret_cast<const char*>(a.bytes.data()), a.v4 ? 4 : 16);
    return std::hash<std::string_view>{}(bytes);
}

LimitRefusal ConnectionLimits::admit(const IpAddress& client, std::size_t sessions,
                                     std::uint64_t now_ms) {
    prune(now_ms);
    Entry& entry = addresses_[client];
    const double rate = settings_.handshakes_per_ip_per_s;
    const double capacity = 2 * rate;
    if (entry.budget < 0) {
        entry.budget = capacity;
    } else {
        const auto elapsed_s = static_cast<double>(now_ms - entry.budget_at_ms) / 1000.0;
        entry.budget = std::min(capacity, entry.budget + elapsed_s * rate);
    }
    entry.budget_at_ms = now_ms;
    if (entry.budget < 1.0) return LimitRefusal::too_fast;
    entry.budget -= 1.0;
    if (sessions >= settings_.max_clients) return LimitRefusal::server_full;
    if (entry.sessions >= settings_.max_clients_per_ip) return LimitRefusal::address_full;
    return LimitRefusal::none;
}

void ConnectionLimits::opened(const IpAddress& client) {
    ++addresses_[client].sessions;
    ++sessions_;
}

void ConnectionLimits::closed(const IpAddress& client) {
    auto it = addresses_.find(client);
    if (it != addresses_.end() && it->second.sessions > 0) {
        --it->second.sessions;
        --sessions_;
    }
}

std::size_t ConnectionLimits::sessions_of(const IpAddress& client) const {
    auto it = addresses_.find(client);
    return it == addresses_.end() ? 0 : it->second.sessions;
}

void ConnectionLimits::prune(std::uint64_t now_ms) {
    // At most once a second, and only once the table has grown.
    if (addresses_.size() < 1024 || now_ms - pruned_at_ms_ < 1000) return;
    pruned_at_ms_ = now_ms;
    const double rate = settings_.handshakes_per_ip_per_s;
    std::erase_if(addresses_, [&](const auto& item) {
        const Entry& e = item.second;
        const auto idle_s = static_cast<double>(now_ms - e.budget_at_ms) / 1000.0;
        return e.sessions == 0 && e.budget + idle_s * rate >= 2 * rate;
    });
}

}  // namespace clubvoice
