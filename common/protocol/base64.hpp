// Standard base64 (RFC 4648 alphabet, with padding), as Engine.IO uses for
// binary messages in polling bodies. Pure. Thread: any.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace clubvoice {

std::string base64_encode(std::string_view bytes);

// Strict: nullopt unless `text` is exactly what base64_encode would produce
// for some bytes (length a multiple of 4, padding only at the end, no
// whitespace, unused bits zero). So decoding never accepts two spellings.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace clubvoice
