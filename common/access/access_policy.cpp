#include "access_policy.hpp"

#include "token_hash.hpp"

#include <algorithm>

namespace clubvoice {

AccessPolicy::AccessPolicy(AccessSettings settings) : settings_(std::move(settings)) {
    for (const auto& text : settings_.admin_networks) {
        // The configuration was checked when loaded; anything else matches nothing.
        if (auto network = IpNetwork::parse(text)) admin_networks_.push_back(*network);
    }
}

const AccessToken* AccessPolicy::find(std::string_view token) const {
    // Every entry is tried, so the time taken does not tell which one matched.
    const AccessToken* found = nullptr;
    for (const auto& entry : settings_.tokens) {
        if (token_matches(token, entry.hash) && found == nullptr) found = &entry;
    }
    return found;
}

Admission AccessPolicy::admit(std::string_view token) const {
    if (token.empty()) {
        if (settings_.listen == AccessRule::token) {
            return {std::nullopt, std::nullopt, std::string(kListenTokenNeeded)};
        }
        return {Role::listener, std::nullopt, {}};
    }
    const AccessToken* entry = find(token);
    if (entry == nullptr) return {std::nullopt, std::nullopt, std::string(kInvalidToken)};
    return {entry->role, *entry, {}};
}

bool AccessPolicy::still_admits(const std::optional<AccessToken>& token) const {
    if (!token) return settings_.listen == AccessRule::open;
    return std::find(settings_.tokens.begin(), settings_.tokens.end(), *token) !=
           settings_.tokens.end();
}

bool AccessPolicy::may_talk(Role role) const {
    return settings_.talk == AccessRule::open || includes(role, Role::talker);
}

AdminAnswer AccessPolicy::admin(const std::optional<IpAddress>& client,
                                std::string_view bearer) const {
    if (!bearer.empty()) {
        const AccessToken* entry = find(bearer);
        if (entry == nullptr) return AdminAnswer::unauthorized;
        return includes(entry->role, Role::admin) ? AdminAnswer::allowed : AdminAnswer::forbidden;
    }
    if (client && in_any(admin_networks_, *client)) return AdminAnswer::allowed;
    return AdminAnswer::unauthorized;
}

}  // namespace clubvoice
