#include "sample_convert.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace clubvoice {
namespace {

template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& values) {
    std::vector<std::byte> out(values.size() * sizeof(T));
    std::memcpy(out.data(), values.data(), out.size());
    return out;
}

template <typename T>
std::vector<T> values_of(const std::vector<std::byte>& bytes) {
    std::vector<T> out(bytes.size() / sizeof(T));
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

TEST(SampleConvert, S16ToFloatAndBack) {
    const std::vector<std::int16_t> in{0, 16384, -16384, 32767, -32768};
    std::vector<float> f(in.size());
    device_to_float(bytes_of(in), SampleFormat::s16, 1, f, 1);
    EXPECT_FLOAT_EQ(f[1], 0.5F);
    EXPECT_FLOAT_EQ(f[2], -0.5F);
    EXPECT_FLOAT_EQ(f[4], -1.0F);

    std::vector<std::byte> out(in.size() * 2);
    float_to_device(f, 1, out, SampleFormat::s16, 1);
    const auto back = values_of<std::int16_t>(out);
    EXPECT_EQ(back[1], 16384);
    EXPECT_EQ(back[3], 32767);
    EXPECT_EQ(back, in);  // every 16-bit value survives the round trip
}

TEST(SampleConvert, ClampsOutOfRange) {
    const std::vector<float> loud{2.0F, -3.0F};
    std::vector<std::byte> out(2 * 4);
    float_to_device(loud, 1, out, SampleFormat::s32, 1);
    const auto s32 = values_of<std::int32_t>(out);
    EXPECT_EQ(s32[0], 2147483647);
    EXPECT_EQ(s32[1], -2147483647 - 1);
    float_to_device(loud, 1, out, SampleFormat::f32, 1);
    const auto f32 = values_of<float>(out);
    EXPECT_EQ(f32[0], 1.0F);
    EXPECT_EQ(f32[1], -1.0F);
}

TEST(SampleConvert, StereoDeviceToMonoAverages) {
    const std::vector<std::int16_t> stereo{16384, 0, -16384, -16384};  // two frames
    std::vector<float> mono(2);
    device_to_float(bytes_of(stereo), SampleFormat::s16, 2, mono, 1);
    EXPECT_FLOAT_EQ(mono[0], 0.25F);
    EXPECT_FLOAT_EQ(mono[1], -0.5F);
}

TEST(SampleConvert, MonoToStereoDeviceCopies) {
    const std::vector<float> mono{0.5F, -0.25F};
    std::vector<std::byte> out(2 * 2 * 4);
    float_to_device(mono, 1, out, SampleFormat::f32, 2);
    EXPECT_EQ(values_of<float>(out), (std::vector<float>{0.5F, 0.5F, -0.25F, -0.25F}));
}

TEST(SampleConvert, ManyChannelsKeepTheFirstOnes) {
    const std::vector<float> four{0.1F, 0.2F, 0.3F, 0.4F};  // one frame of a 4-channel device
    std::vector<float> stereo(2);
    device_to_float(bytes_of(four), SampleFormat::f32, 4, stereo, 2);
    EXPECT_EQ(stereo, (std::vector<float>{0.1F, 0.2F}));
}

TEST(SampleConvert, StopsAtTheShorterBuffer) {
    const std::vector<std::int16_t> in{1000, 2000, 3000};
    std::vector<float> out(2, 9.0F);
    device_to_float(bytes_of(in), SampleFormat::s16, 1, out, 1);  // no write past out
    EXPECT_NE(out[1], 9.0F);
}

}  // namespace
}  // namespace clubvoice
