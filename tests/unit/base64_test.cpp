#include "base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clubvoice {
namespace {

using namespace std::literals;

TEST(Base64, Rfc4648Vectors) {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [bytes, text] : vectors) {
        EXPECT_EQ(base64_encode(bytes), text);
        EXPECT_EQ(base64_decode(text), bytes) << text;
    }
}

TEST(Base64, EngineIoSpecExample) {
    // The Engine.IO document's "bAQIDBA==" is the buffer <01 02 03 04>.
    EXPECT_EQ(base64_encode("\x01\x02\x03\x04"s), "AQIDBA==");
    EXPECT_EQ(base64_decode("AQIDBA=="), "\x01\x02\x03\x04"s);
}

TEST(Base64, EveryByteValueRoundTrips) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t len = 0; len <= all.size(); len += 37) {
        const std::string bytes = all.substr(0, len);
        EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << len;
    }
    EXPECT_EQ(base64_decode(base64_encode(all)), all);
    EXPECT_EQ(base64_encode("\xff\xfe\xfd"s), "//79");
}

TEST(Base64, RejectsAnythingAnEncoderWouldNotWrite) {
    for (const char* bad : {
             "Zg",        // unpadded
             "Zg=",       // short padding
             "Zm9vY",     // length not a multiple of 4
             "Zg===",     // too much padding
             "====",      // padding only
             "Z===",      // three padding characters
             "Zg==Zg==",  // padding in the middle
             "Zm=v",      // padding before data
             "Zm9v\n",    // whitespace
             "Zm 9v",     // space inside
             "Zm9-",      // URL-safe alphabet
             "Zm9_",      // URL-safe alphabet
             "Zm9\x80",   // non-ASCII
             "Zh==",      // unused bits set: same byte as "Zg=="
             "Zm9=",      // unused bits set: same bytes as "Zm8="
         }) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(base64_decode("Zm9v\0"s), std::nullopt);
    EXPECT_EQ(base64_decode(std::string_view("Zm9v\0\0\0\0", 8)), std::nullopt);
}

}  // namespace
}  // namespace clubvoice
