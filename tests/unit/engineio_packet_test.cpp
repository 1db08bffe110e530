#include "engineio_packet.hpp"

#include "protocol_error.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace clubvoice::eio {
namespace {

using namespace std::literals;

std::string error_of(std::string_view body) {
    try {
        decode_payload(body);
    } catch (const ProtocolError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(EngineIoPacket, DecodesEveryTextType) {
    const std::pair<std::string, Packet> cases[] = {
        {R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]})",
         {PacketType::open, false, R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]})"}},
        {"1", {PacketType::close, false, ""}},
        {"2", {PacketType::ping, false, ""}},
        {"2probe", {PacketType::ping, false, "probe"}},
        {"3probe", {PacketType::pong, false, "probe"}},
        {"4hello", {PacketType::message, false, "hello"}},
        {"41\xe2\x82\xac", {PacketType::message, false, "1\xe2\x82\xac"}},  // "1€", bytes kept
        {"5", {PacketType::upgrade, false, ""}},
        {"6", {PacketType::noop, false, ""}},
    };
    for (const auto& [frame, packet] : cases) {
        EXPECT_EQ(decode_text(frame), packet) << frame;
        EXPECT_EQ(encode_text(packet), frame);
    }
}

TEST(EngineIoPacket, Base64TextFrameIsABinaryMessage) {
    // What a client with forceBase64 sends over WebSocket.
    EXPECT_EQ(decode_text("bAQIDBA=="), (Packet{PacketType::message, true, "\x01\x02\x03\x04"s}));
    EXPECT_EQ(decode_text("b"), (Packet{PacketType::message, true, ""}));
}

TEST(EngineIoPacket, RefusesMalformedTextFrames) {
    for (std::string_view bad :
         {""sv, "7"sv, "9"sv, "a123"sv, "{"sv, "\x1e"sv, "b!!!!"sv, "bAQIDBA="sv, "\x00"sv}) {
        EXPECT_THROW(decode_text(bad), ProtocolError) << bad;
    }
}

TEST(EngineIoPacket, BinaryFrameIsAlwaysABinaryMessage) {
    EXPECT_EQ(decode_binary("\x00\xff\x1e"s), (Packet{PacketType::message, true, "\x00\xff\x1e"s}));
    EXPECT_EQ(decode_binary("4hello"), (Packet{PacketType::message, true, "4hello"}));
    EXPECT_EQ(decode_binary(""), (Packet{PacketType::message, true, ""}));
}

TEST(EngineIoPacket, DecodingReadsOnlyTheGivenBytes) {
    const std::string buffer =
        "4abcXYZ\x1e"
        "4more";
    EXPECT_EQ(decode_text(std::string_view(buffer).substr(0, 4)).data, "abc");
    const auto packets = decode_payload(std::string_view(buffer).substr(0, 7));
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].data, "abcXYZ");
}

TEST(EngineIoPacket, EncodeTextRefusesBinary) {
    EXPECT_THROW(encode_text({PacketType::message, true, "x"}), std::invalid_argument);
    EXPECT_THROW(encode_text({static_cast<PacketType>('9'), false, ""}), std::invalid_argument);
}

TEST(EngineIoPayload, SpecExamples) {
    EXPECT_EQ(decode_payload("4hello\x1e"
                             "2\x1e"
                             "4world"),
              (std::vector<Packet>{{PacketType::message, false, "hello"},
                                   {PacketType::ping, false, ""},
                                   {PacketType::message, false, "world"}}));
    EXPECT_EQ(decode_payload("4hello\x1e"
                             "bAQIDBA=="),
              (std::vector<Packet>{{PacketType::message, false, "hello"},
                                   {PacketType::message, true, "\x01\x02\x03\x04"s}}));
    // Socket.IO's sample session, request 5.
    EXPECT_EQ(decode_payload("42[\"hello\"]\x1e"
                             "42[\"world\"]"),
              (std::vector<Packet>{{PacketType::message, false, R"(2["hello"])"},
                                   {PacketType::message, false, R"(2["world"])"}}));
}

TEST(EngineIoPayload, EncodesAndDecodesAllTypes) {
    const std::vector<Packet> packets = {
        {PacketType::open, false, ""},        {PacketType::close, false, ""},
        {PacketType::ping, false, "probe"},   {PacketType::pong, false, "probe"},
        {PacketType::message, false, "test"}, {PacketType::upgrade, false, ""},
        {PacketType::noop, false, ""},        {PacketType::message, true, "\x01\x02\x03\x04"s},
        {PacketType::message, true, ""},
    };
    std::string body;
    for (const Packet& p : packets) append_to_payload(body, p);
    EXPECT_EQ(body,
              "0\x1e"
              "1\x1e"
              "2probe\x1e"
              "3probe\x1e"
              "4test\x1e"
              "5\x1e"
              "6\x1e"
              "bAQIDBA==\x1e"
              "b");
    EXPECT_EQ(decode_payload(body), packets);
}

TEST(EngineIoPayload, OnePacketHasNoSeparator) {
    std::string body;
    append_to_payload(body, {PacketType::noop, false, ""});
    EXPECT_EQ(body, "6");
}

TEST(EngineIoPayload, AppendRefusesWhatCannotBeFramed) {
    std::string body;
    EXPECT_THROW(append_to_payload(body, {PacketType::ping, true, "x"}), std::invalid_argument);
    EXPECT_THROW(append_to_payload(body, {PacketType::message, false,
                                          "a\x1e"
                                          "4b"}),
                 std::invalid_argument);
    // Bytes may hold 0x1e: base64 hides it.
    append_to_payload(body, {PacketType::message, true, "\x1e"});
    EXPECT_EQ(body, "bHg==");
}

TEST(EngineIoPayload, RefusesMalformedBodies) {
    EXPECT_EQ(error_of(""), "Engine.IO payload: empty body");
    EXPECT_EQ(error_of("\x1e"), "Engine.IO payload packet 1: empty packet");
    EXPECT_EQ(error_of("4a\x1e"), "Engine.IO payload packet 2: empty packet");
    EXPECT_EQ(error_of("\x1e"
                       "4a"),
              "Engine.IO payload packet 1: empty packet");
    EXPECT_EQ(error_of("4a\x1e\x1e"
                       "4b"),
              "Engine.IO payload packet 2: empty packet");
    EXPECT_EQ(error_of("4a\x1e"
                       "9"),
              "Engine.IO payload packet 2: unknown packet type 0x39");
    EXPECT_EQ(error_of("4a\x1e"
                       "b@@@@"),
              "Engine.IO payload packet 2: binary message is not valid base64");
    // The reference parser's malformed payloads.
    for (std::string_view bad : {"{"sv, "{}"sv, R"(["a123", "a456"])"sv}) {
        EXPECT_THROW(decode_payload(bad), ProtocolError) << bad;
    }
}

TEST(EngineIoPayload, ManyPacketsRoundTrip) {
    std::vector<Packet> packets;
    std::string body;
    for (int i = 0; i < 1000; ++i) {
        Packet p = i % 3 == 0 ? Packet{PacketType::message, true, std::string(i % 7, char(i))}
                              : Packet{PacketType::message, false, std::to_string(i)};
        append_to_payload(body, p);
        packets.push_back(std::move(p));
    }
    EXPECT_EQ(decode_payload(body), packets);
}

}  // namespace
}  // namespace clubvoice::eio
