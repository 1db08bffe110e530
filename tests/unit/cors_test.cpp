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

}  // namespace
}  // namespace clubvoice
