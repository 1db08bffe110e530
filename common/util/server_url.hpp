// A server's address as the configuration writes it
// ("http://icecast.example:8000/room.opus", "redis://127.0.0.1:6379"):
// scheme, host, port and path, read without throwing. Credentials have keys
// of their own, so a URL that carries them ("user:pass@") is refused rather
// than half-used, and so are a query and a fragment, which no server we
// feed would read. Thread: any (pure).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace clubvoice {

struct UrlScheme {
    std::string_view name;  // lower case, without "://"
    int default_port;
};

struct ServerUrl {
    std::string scheme;  // one of the schemes asked for
    std::string host;    // a name or an address; an IPv6 address without its brackets
    int port = 0;
    std::string path;  // "/" when the URL has none

    // The URL as written back: scheme://host:port/path.
    std::string text() const;
};

// nullopt, and what is wrong in `problem` (one line), for text that is not
// such a URL of one of `schemes`.
std::optional<ServerUrl> parse_server_url(std::string_view text, std::span<const UrlScheme> schemes,
                                          std::string* problem = nullptr);

}  // namespace clubvoice
