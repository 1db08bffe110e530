#include "cors.hpp"

#include <algorithm>

namespace clubvoice {

bool origin_allowed(std::span<const std::string> allowed, std::string_view origin) {
    return std::any_of(allowed.begin(), allowed.end(),
                       [origin](const std::string& o) { return o == "*" || o == origin; });
}

}  // namespace clubvoice
