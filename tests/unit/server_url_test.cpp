// The configuration's server URLs (icecast.url, cluster.redis_url): what is
// taken, what is refused and the one line that says why.
#include "server_url.hpp"

#include <gtest/gtest.h>

#include <array>

namespace clubvoice {
namespace {

constexpr std::array<UrlScheme, 2> kSchemes{{{"http", 80}, {"redis", 6379}}};

std::string problem_of(std::string_view text) {
    std::string problem;
    EXPECT_FALSE(parse_server_url(text, kSchemes, &problem)) << text;
    return problem;
}

TEST(ServerUrl, ReadsSchemeHostPortAndPath) {
    auto url = parse_server_url("http://icecast.example:8000/room.opus", kSchemes);
    ASSERT_TRUE(url);
    EXPECT_EQ(url->scheme, "http");
    EXPECT_EQ(url->host, "icecast.example");
    EXPECT_EQ(url->port, 8000);
    EXPECT_EQ(url->path, "/room.opus");
    EXPECT_EQ(url->text(), "http://icecast.example:8000/room.opus");
}

TEST(ServerUrl, DefaultsPortAndPath) {
    auto url = parse_server_url("redis://127.0.0.1", kSchemes);
    ASSERT_TRUE(url);
    EXPECT_EQ(url->port, 6379);
    EXPECT_EQ(url->path, "/");
    EXPECT_EQ(parse_server_url("http://host/a", kSchemes)->port, 80);
}

TEST(ServerUrl, TakesBracketedIpv6) {
    auto url = parse_server_url("http://[::1]:8000/room.opus", kSchemes);
    ASSERT_TRUE(url);
    EXPECT_EQ(url->host, "::1");
    EXPECT_EQ(url->port, 8000);
    EXPECT_EQ(url->text(), "http://[::1]:8000/room.opus");
    EXPECT_EQ(parse_server_url("http://[fe80::1]/x", kSchemes)->port, 80);
}

TEST(ServerUrl, RefusesWithOneLine) {
    EXPECT_EQ(problem_of("ftp://host/x"), "must begin with http:// or redis://");
    EXPECT_EQ(problem_of("host:8000/x"), "must begin with http:// or redis://");
    EXPECT_EQ(problem_of("HTTP://host/x"), "must begin with http:// or redis://");
    EXPECT_EQ(problem_of("http://"), "needs a host");
    EXPECT_EQ(problem_of("http://:80/x"), "needs a host");
    EXPECT_EQ(problem_of("http://host:/x"), "port must be 1 to 65535 (got \"\")");
    EXPECT_EQ(problem_of("http://host:0/x"), "port must be 1 to 65535 (got \"0\")");
    EXPECT_EQ(problem_of("http://host:80x/x"), "port must be 1 to 65535 (got \"80x\")");
    EXPECT_EQ(problem_of("http://host:65536"), "port must be 1 to 65535 (got \"65536\")");
    EXPECT_EQ(problem_of("http://u:p@host/x"),
              "must not carry a user or password (they have keys of their own)");
    EXPECT_EQ(problem_of("http://host/x?a=1"), "must not have a query or a fragment");
    EXPECT_EQ(problem_of("http://host/x#top"), "must not have a query or a fragment");
    EXPECT_EQ(problem_of("http://ho st/x"), "host may hold only letters, digits, '.', '-' and '_'");
    EXPECT_EQ(problem_of("http://host/a b"),
              "path must be printable ASCII without spaces (percent-encode)");
    EXPECT_EQ(problem_of("http://host/a\nb"),
              "path must be printable ASCII without spaces (percent-encode)");
    EXPECT_EQ(problem_of("http://[::1/x"), "has an unclosed [");
    EXPECT_EQ(problem_of("http://[]/x"), "has a bad IPv6 address in []");
    EXPECT_EQ(problem_of("http://[::1]x/x"), "has text after ]");
    EXPECT_EQ(problem_of(std::string(3000, 'a')), "is longer than 2048 bytes");
}

}  // namespace
}  // namespace clubvoice
