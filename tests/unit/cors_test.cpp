#include "cors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clubvoice {
namespace {

TEST(Cors, EmptyListAllowsNoOrigin) {
    EXPECT_FALSE(origin_allowed({}, "https://a.example"));
    EXPECT_FALSE(origin_allowed({}, ""));
}

TEST(Cors, ListedOriginsOnlyAndExactly) {
    const std::vector<std::string> allowed{"https://a.example", "http://b.example:8080"};
    EXPECT_TRUE(origin_allowed(allowed, "https://a.example"));
    EXPECT_TRUE(origin_allowed(allowed, "http://b.example:8080"));
    EXPECT_FALSE(origin_allowed(allowed, "http://a.example"));
    EXPECT_FALSE(origin_allowed(allowed, "https://a.example.evil"));
    EXPECT_FALSE(origin_allowed(allowed, "https://A.example"));
    EXPECT_FALSE(origin_allowed(allowed, "http://b.example"));
    EXPECT_FALSE(origin_allowed(allowed, "null"));
    EXPECT_FALSE(origin_allowed(allowed, ""));
}

TEST(Cors, StarAllowsEveryOrigin) {
    const std::vector<std::string> allowed{"https://a.example", "*"};
    EXPECT_TRUE(origin_allowed(allowed, "https://other.example"));
    EXPECT_TRUE(origin_allowed(allowed, "null"));
    EXPECT_FALSE(
        origin_allowed(std::vector<std::string>{"https://*.example"}, "https://b.example"));
}

TEST(Cors, HandshakesComeFromNoOriginTheServersOwnOrTheList) {
    const std::vector<std::string> none;
    const std::vector<std::string> listed{"https://desk.example"};
    EXPECT_TRUE(handshake_origin_allowed(none, std::nullopt, "box:5000")) << "not a browser";
    EXPECT_TRUE(handshake_origin_allowed(none, "http://box:5000", "box:5000"));
    EXPECT_TRUE(handshake_origin_allowed(none, "https://Box", "box")) << "hosts ignore case";
    EXPECT_FALSE(handshake_origin_allowed(none, "http://box:5001", "box:5000"));
    EXPECT_FALSE(handshake_origin_allowed(none, "http://evil.example", "box:5000"));
    EXPECT_FALSE(handshake_origin_allowed(none, "http://box:5000.evil", "box:5000"));
    EXPECT_FALSE(handshake_origin_allowed(none, "null", "box:5000"));
    EXPECT_FALSE(handshake_origin_allowed(none, "ws://box:5000", "box:5000"));
    EXPECT_FALSE(handshake_origin_allowed(none, "http://box:5000", std::nullopt));
    EXPECT_TRUE(handshake_origin_allowed(listed, "https://desk.example", "box:5000"));
}

}  // namespace
}  // namespace clubvoice
