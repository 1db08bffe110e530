// What a client may do, decided from access.* and what it presents: a token
// (CONNECT auth or Authorization: Bearer) and its address. A wrong token is
// refused, never taken for no token. Thread: any (immutable; the daemon makes
// a new one on reload).
#pragma once

#include "access_settings.hpp"
#include "ip_network.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

// The refusals' messages, part of the wire contract (CONNECT_ERROR, acks).
inline constexpr std::string_view kInvalidToken = "invalid token";
inline constexpr std::string_view kListenTokenNeeded = "a token is needed to listen";
inline constexpr std::string_view kTalkTokenNeeded = "a talker token is needed";

struct Admission {
    std::optional<Role> role;          // empty: refused
    std::optional<AccessToken> token;  // the entry that matched, when a token was given
    std::string refusal;               // why, when refused
};

enum class AdminAnswer { allowed, unauthorized, forbidden };  // 200, 401, 403

class AccessPolicy {
  public:
    AccessPolicy() : AccessPolicy(AccessSettings{}) {}
    explicit AccessPolicy(AccessSettings settings);

    // A client joining with this token (empty: none).
    Admission admit(std::string_view token) const;
    // Whether a client admitted earlier (with this token entry, or none) would
    // still be admitted: after a reload, tokens may be gone or listen closed.
    bool still_admits(const std::optional<AccessToken>& token) const;
    // Whether a client of this role may talk (audio.mode aside).
    bool may_talk(Role role) const;
    // A request for the admin figures from `client` with this bearer token.
    AdminAnswer admin(const std::optional<IpAddress>& client, std::string_view bearer) const;

  private:
    const AccessToken* find(std::string_view token) const;

    AccessSettings settings_;
    std::vector<IpNetwork> admin_networks_;
};

}  // namespace clubvoice
