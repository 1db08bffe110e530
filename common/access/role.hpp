// Who a client is to the daemon. Roles nest: each includes the ones before
// it (a talker may listen, an admin may talk). Thread: any (pure).
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace clubvoice {

enum class Role { listener, talker, admin };

inline constexpr std::array<std::pair<std::string_view, Role>, 3> kRoleNames{{
    {"listener", Role::listener},
    {"talker", Role::talker},
    {"admin", Role::admin},
}};

constexpr std::string_view to_string(Role role) {
    for (const auto& [name, value] : kRoleNames) {
        if (value == role) return name;
    }
    return "?";
}

constexpr std::optional<Role> role_named(std::string_view name) {
    for (const auto& [n, value] : kRoleNames) {
        if (n == name) return value;
    }
    return std::nullopt;
}

// True when `role` includes `needed`.
constexpr bool includes(Role role, Role needed) {
    return static_cast<int>(role) >= static_cast<int>(needed);
}

}  // namespace clubvoice
