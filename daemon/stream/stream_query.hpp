// The query of a request for /stream.opus, checked without throwing before
// anyone uses it: the one description of its accepted shape (docs/protocol.md
// lists the same). Thread: any (pure).
//
//   token=TOKEN   at most once: 1-256 bytes of UTF-8 without control
//                 characters (as CONNECT auth's token); players that cannot
//                 send an Authorization header put their token here
//   anything else is ignored (players and proxies add arguments of their own),
//   up to kMaxStreamQueryArgs arguments
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

namespace clubvoice {

constexpr std::size_t kMaxStreamTokenBytes = 256;
constexpr std::size_t kMaxStreamQueryArgs = 32;

struct StreamQuery {
    std::optional<std::string> token;  // empty: no token in the query
    std::string problem;               // why the query was refused; empty when it was not
    bool ok() const { return problem.empty(); }
};

// `args` are the query's arguments as libwebsockets splits and decodes them
// ("name=value", url_arguments() in lws_request.hpp).
StreamQuery check_stream_query(std::span<const std::string> args);

}  // namespace clubvoice
