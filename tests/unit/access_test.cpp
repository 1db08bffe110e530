#include "access_policy.hpp"
#include "client_address.hpp"
#include "connection_limits.hpp"
#include "ip_network.hpp"
#include "token_hash.hpp"

#include <gtest/gtest.h>

#include <set>

namespace clubvoice {
namespace {

IpAddress ip(std::string_view text) {
    auto address = IpAddress::parse(text);
    EXPECT_TRUE(address) << text;
    return address.value_or(IpAddress{});
}

IpNetwork net(std::string_view text) {
    auto network = IpNetwork::parse(text);
    EXPECT_TRUE(network) << text;
    return network.value_or(IpNetwork{});
}

TEST(TokenHash, MatchesItsTokenOnly) {
    const std::string token = new_token();
    const std::string hash = hash_token(token);
    EXPECT_TRUE(token_matches(token, hash));
    EXPECT_FALSE(token_matches(token + "x", hash));
    EXPECT_FALSE(token_matches("", hash));
    EXPECT_EQ(hash_problem(hash), "");
    EXPECT_NE(hash_token(token), hash) << "the salt must differ each time";
}

TEST(TokenHash, TokensAreLongAndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string token = new_token();
        EXPECT_GE(token.size() * 6, 256U);
        EXPECT_EQ(token.find_first_not_of(
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                  std::string::npos);
        seen.insert(token);
    }
    EXPECT_EQ(seen.size(), 100U);
}

TEST(TokenHash, MalformedHashesMatchNothing) {
    const std::string good = hash_token("t");
    for (std::string bad : {std::string(""), std::string("sha256$"), good.substr(1), good + "0",
                            "md5" + good.substr(6), good.substr(0, 7) + "ZZ" + good.substr(9)}) {
        EXPECT_NE(hash_problem(bad), "") << bad;
        EXPECT_FALSE(token_matches("t", bad)) << bad;
    }
    std::string upper = good;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_NE(hash_problem(upper), "") << "one spelling per hash";
}

TEST(IpNetwork, ParsesAndMatches) {
    EXPECT_TRUE(net("127.0.0.0/8").contains(ip("127.1.2.3")));
    EXPECT_FALSE(net("127.0.0.0/8").contains(ip("128.0.0.1")));
    EXPECT_TRUE(net("::1/128").contains(ip("::1")));
    EXPECT_FALSE(net("::1/128").contains(ip("127.0.0.1")));
    EXPECT_TRUE(net("10.0.0.0/13").contains(ip("10.7.255.255")));
    EXPECT_FALSE(net("10.0.0.0/13").contains(ip("10.8.0.0")));
    EXPECT_TRUE(net("0.0.0.0/0").contains(ip("203.0.113.9")));
    EXPECT_TRUE(net("192.0.2.7").contains(ip("192.0.2.7")));  // a bare address: one host
    EXPECT_TRUE(net("2001:db8::/32").contains(ip("2001:db8:1::5")));
    // An IPv4 client seen on an IPv6 socket is the IPv4 address.
    EXPECT_TRUE(net("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
    EXPECT_EQ(ip("::ffff:10.1.2.3").to_string(), "10.1.2.3");
}

TEST(IpNetwork, RefusesWhatIsNotANetwork) {
    for (std::string_view bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.1.0.0/8",
                                 "::1/129", "example.org", "10.0.0.0/8x", "1.2.3.4.5"}) {
        std::string problem;
        EXPECT_FALSE(IpNetwork::parse(bad, &problem)) << bad;
        EXPECT_NE(problem, "") << bad;
    }
}

TEST(ClientAddress, BelievesOnlyTrustedProxies) {
    const std::vector<IpNetwork> proxies{net("10.0.0.0/8")};
    // Not a proxy: its headers are the client's own words.
    EXPECT_EQ(client_address(ip("203.0.113.9"), proxies, "198.51.100.1", std::nullopt),
              ip("203.0.113.9"));
    // A proxy: the nearest address it was not told by another proxy.
    EXPECT_EQ(client_address(ip("10.0.0.1"), proxies, "198.51.100.1", std::nullopt),
              ip("198.51.100.1"));
    EXPECT_EQ(
        client_address(ip("10.0.0.1"), proxies, "1.1.1.1, 198.51.100.1, 10.0.0.2", std::nullopt),
        ip("198.51.100.1"))
        << "a spoofed first entry is not believed";
    EXPECT_EQ(client_address(ip("10.0.0.1"), proxies, std::nullopt,
                             R"(for=198.51.100.1;proto=https, for="[2001:db8::1]:4711")"),
              ip("2001:db8::1"));
    EXPECT_EQ(client_address(ip("10.0.0.1"), proxies, "198.51.100.1:5000", std::nullopt),
              ip("198.51.100.1"));
    // Garbage stops the walk at the last proxy that can be believed.
    EXPECT_EQ(client_address(ip("10.0.0.1"), proxies, "198.51.100.1, junk", std::nullopt),
              ip("10.0.0.1"));
    EXPECT_EQ(client_address(ip("10.0.0.1"), proxies, std::nullopt, "for=unknown"), ip("10.0.0.1"));
    EXPECT_EQ(client_address(ip("10.0.0.1"), {}, "198.51.100.1", std::nullopt), ip("10.0.0.1"));
}

TEST(ConnectionLimits, PerAddressAndInAll) {
    ConnectionLimits limits({3, 2, 1000});
    const IpAddress a = ip("192.0.2.1");
    const IpAddress b = ip("192.0.2.2");
    EXPECT_EQ(limits.admit(a, 0, 0), LimitRefusal::none);
    limits.opened(a);
    EXPECT_EQ(limits.admit(a, 1, 0), LimitRefusal::none);
    limits.opened(a);
    EXPECT_EQ(limits.admit(a, 2, 0), LimitRefusal::address_full);
    EXPECT_EQ(limits.admit(b, 2, 0), LimitRefusal::none);
    limits.opened(b);
    EXPECT_EQ(limits.admit(b, 3, 0), LimitRefusal::server_full);
    limits.closed(a);
    EXPECT_EQ(limits.sessions_of(a), 1U);
    EXPECT_EQ(limits.admit(a, 2, 0), LimitRefusal::none);
}

TEST(ConnectionLimits, CountsEverySessionItWasToldOf) {
    // Socket.IO sessions and /stream.opus readers share one ConnectionLimits
    // and ask admit() with sessions(), the count of both.
    ConnectionLimits limits({2, 10, 1000});
    const IpAddress a = ip("192.0.2.1");
    const IpAddress b = ip("192.0.2.2");
    limits.opened(a);
    limits.opened(b);
    EXPECT_EQ(limits.sessions(), 2U);
    EXPECT_EQ(limits.admit(a, limits.sessions(), 0), LimitRefusal::server_full);
    limits.closed(b);
    limits.closed(b);  // a second close of the same session changes nothing
    EXPECT_EQ(limits.sessions(), 1U);
    EXPECT_EQ(limits.admit(a, limits.sessions(), 0), LimitRefusal::none);
}

TEST(ConnectionLimits, HandshakeRateIsABucketPerAddress) {
    ConnectionLimits limits({1000, 1000, 5});
    const IpAddress a = ip("192.0.2.1");
    int admitted = 0;
    for (int i = 0; i < 20; ++i) admitted += limits.admit(a, 0, 1000) == LimitRefusal::none;
    EXPECT_EQ(admitted, 10) << "a burst of twice the rate";
    EXPECT_EQ(limits.admit(ip("192.0.2.2"), 0, 1000), LimitRefusal::none) << "others unaffected";
    EXPECT_EQ(limits.admit(a, 0, 1100), LimitRefusal::too_fast);
    EXPECT_EQ(limits.admit(a, 0, 1300), LimitRefusal::none) << "refilled at the rate";
}

TEST(ConnectionLimits, ForgetsIdleAddresses) {
    ConnectionLimits limits({100000, 100, 10});
    for (int i = 0; i < 2000; ++i) {
        IpAddress address;
        address.bytes = {10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
        limits.admit(address, 0, 0);
    }
    const IpAddress busy = ip("192.0.2.1");
    limits.admit(busy, 0, 0);
    limits.opened(busy);
    EXPECT_GT(limits.tracked_addresses(), 2000U);
    limits.admit(ip("192.0.2.9"), 0, 10000);  // long after: their buckets are full again
    EXPECT_LE(limits.tracked_addresses(), 2U);
    EXPECT_EQ(limits.sessions_of(busy), 1U) << "an address with a session is kept";
}

TEST(AccessPolicy, RolesFromTokens) {
    const std::string desk = new_token();
    const std::string ops = new_token();
    AccessSettings settings;
    settings.tokens = {{"desk", Role::talker, hash_token(desk)},
                       {"ops", Role::admin, hash_token(ops)}};
    const AccessPolicy policy(settings);
    EXPECT_EQ(policy.admit("").role, Role::listener);
    EXPECT_EQ(policy.admit(desk).role, Role::talker);
    EXPECT_EQ(policy.admit(desk).token->name, "desk");
    EXPECT_EQ(policy.admit(ops).role, Role::admin);
    const Admission wrong = policy.admit(desk + "x");
    EXPECT_FALSE(wrong.role) << "a wrong token is never taken for none";
    EXPECT_EQ(wrong.refusal, kInvalidToken);
    EXPECT_FALSE(policy.may_talk(Role::listener));
    EXPECT_TRUE(policy.may_talk(Role::talker));
    EXPECT_TRUE(policy.may_talk(Role::admin));

    settings.listen = AccessRule::token;
    settings.talk = AccessRule::open;
    const AccessPolicy closed(settings);
    EXPECT_EQ(closed.admit("").refusal, kListenTokenNeeded);
    EXPECT_TRUE(closed.may_talk(Role::listener));
    EXPECT_FALSE(closed.still_admits(std::nullopt));
    EXPECT_TRUE(closed.still_admits(settings.tokens[0]));
    EXPECT_FALSE(closed.still_admits(AccessToken{"desk", Role::talker, hash_token(desk)}))
        << "a rotated hash is another token";
}

TEST(AccessPolicy, AdminByTokenOrNetwork) {
    const std::string desk = new_token();
    const std::string ops = new_token();
    AccessSettings settings;
    settings.tokens = {{"desk", Role::talker, hash_token(desk)},
                       {"ops", Role::admin, hash_token(ops)}};
    const AccessPolicy policy(settings);  // admin networks: 127.0.0.0/8, ::1/128
    EXPECT_EQ(policy.admin(ip("127.0.0.1"), ""), AdminAnswer::allowed);
    EXPECT_EQ(policy.admin(ip("::1"), ""), AdminAnswer::allowed);
    EXPECT_EQ(policy.admin(ip("192.0.2.1"), ""), AdminAnswer::unauthorized);
    EXPECT_EQ(policy.admin(ip("192.0.2.1"), ops), AdminAnswer::allowed);
    EXPECT_EQ(policy.admin(ip("192.0.2.1"), desk), AdminAnswer::forbidden);
    EXPECT_EQ(policy.admin(ip("127.0.0.1"), "wrong"), AdminAnswer::unauthorized)
        << "a wrong token is refused even from an admin network";
}

}  // namespace
}  // namespace clubvoice
