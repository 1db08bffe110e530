#include "ws_frame.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clubvoice {
namespace {

TEST(WsFrame, SmallTextAndBinary) {
    std::string out;
    append_ws_frame(out, false, "4hi");
    append_ws_frame(out, true, std::string("\x00\x01", 2));
    EXPECT_EQ(out, std::string("\x81\x03"
                               "4hi"
                               "\x82\x02\x00\x01",
                               9));
    EXPECT_EQ(ws_frame_size(3), 5U);
}

TEST(WsFrame, LengthEncodings) {
    for (std::size_t n : {125UL, 126UL, 65535UL, 65536UL, 300000UL}) {
        std::string out;
        append_ws_frame(out, true, std::string(n, 'x'));
        ASSERT_EQ(out.size(), ws_frame_size(n)) << n;
        auto byte = [&](std::size_t i) { return static_cast<unsigned char>(out[i]); };
        EXPECT_EQ(byte(0), 0x82);
        if (n < 126) {
            EXPECT_EQ(byte(1), n);
        } else if (n <= 0xffff) {
            EXPECT_EQ(byte(1), 126);
            EXPECT_EQ((byte(2) << 8) | byte(3), n);
        } else {
            EXPECT_EQ(byte(1), 127);
            std::size_t length = 0;
            for (int i = 2; i < 10; ++i) length = (length << 8) | byte(static_cast<std::size_t>(i));
            EXPECT_EQ(length, n);
        }
    }
}

}  // namespace
}  // namespace clubvoice
