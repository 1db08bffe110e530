// Limits on who may open a session: in all, per client address, and how fast
// one address may open them (a token bucket per address). Thread: one owner
// (the loop); the caller passes the time.
#pragma once

#include "ip_network.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace clubvoice {

struct LimitSettings {
    std::size_t max_clients = 5000;
    std::size_t max_clients_per_ip = 64;
    double handshakes_per_ip_per_s = 10;  // the bucket holds twice this
};

enum class LimitRefusal { none, server_full, address_full, too_fast };
std::string_view to_string(LimitRefusal refusal);  // a reason for clients and logs

class ConnectionLimits {
  public:
    explicit ConnectionLimits(LimitSettings settings = {}) : settings_(settings) {}
    void set(LimitSettings settings) { settings_ = settings; }

    // A new session from `client`: takes one handshake from its bucket, and
    // says whether it may open. `sessions` is how many are open now.
    LimitRefusal admit(const IpAddress& client, std::size_t sessions, std::uint64_t now_ms);
    void opened(const IpAddress& client);
    void closed(const IpAddress& client);

    // Sessions opened and not closed yet, from every address: what admit()
    // compares with max_clients when several kinds of session share these
    // limits (Socket.IO sessions and /stream.opus readers).
    std::size_t sessions() const { return sessions_; }
    std::size_t sessions_of(const IpAddress& client) const;
    std::size_t tracked_addresses() const { return addresses_.size(); }

  private:
    struct Entry {
        std::size_t sessions = 0;
        double budget = -1.0;  // handshakes it may open now; -1: full
        std::uint64_t budget_at_ms = 0;
    };
    struct Hash {
        std::size_t operator()(const IpAddress& a) const;
    };
    // Forgets addresses with no session whose bucket has refilled, so the
    // table stays as small as the set of recent clients.
    void prune(std::uint64_t now_ms);

    LimitSettings settings_;
    std::unordered_map<IpAddress, Entry, Hash> addresses_;
    std::size_t sessions_ = 0;
    std::uint64_t pruned_at_ms_ = 0;
};

}  // namespace clubvoice
