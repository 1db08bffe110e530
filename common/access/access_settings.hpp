// The access section of the configuration (access.*), as plain values: who
// may listen, who may talk, which networks may administer, and the tokens.
// Thread: any (a value).
#pragma once

#include "role.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

// access.listen and access.talk: anyone, or only clients with a token.
enum class AccessRule { open, token };

// One entry of access.tokens: only the token's hash is stored.
struct AccessToken {
    std::string name;  // in logs, and the talker's name when the client gives none
    Role role = Role::listener;
    std::string hash;  // token_hash.hpp
    bool operator==(const AccessToken&) const = default;
};

struct AccessSettings {
    AccessRule listen = AccessRule::open;
    AccessRule talk = AccessRule::token;
    std::vector<std::string> admin_networks{"127.0.0.0/8", "::1/128"};
    std::vector<AccessToken> tokens;
};

}  // namespace clubvoice
