#include "socketio_packet.hpp"

#include "socketio_decoder.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace clubvoice::sio {
namespace {

using nlohmann::json;
using namespace std::literals;

json bytes(std::string_view b) {
    return json::binary(json::binary_t::container_type(b.begin(), b.end()));
}

// Encodes, checks the wire form, then decodes it back (as a client would
// see it for CONNECT_ERROR) and checks nothing was lost.
void expect_wire(const Packet& p, std::string_view text,
                 const std::vector<std::string>& attachments = {}) {
    const Encoded encoded = encode(p);
    EXPECT_EQ(encoded.text, text);
    EXPECT_EQ(encoded.attachments, attachments);

    Decoder decoder({.allow_connect_error = true});
    std::optional<Packet> decoded = decoder.feed_text(encoded.text);
    for (const std::string& attachment : encoded.attachments) {
        ASSERT_FALSE(decoded);
        ASSERT_TRUE(decoder.awaiting_attachments());
        decoded = decoder.feed_binary(attachment);
    }
    ASSERT_TRUE(decoded) << text;
    EXPECT_FALSE(decoder.awaiting_attachments());
    Packet expected = p;
    if (expected.nsp.empty()) expected.nsp = "/";
    // binary_* exist only on the wire: decoded packets say event/ack.
    if (expected.type == PacketType::binary_event) expected.type = PacketType::event;
    if (expected.type == PacketType::binary_ack) expected.type = PacketType::ack;
    EXPECT_EQ(*decoded, expected) << text;
}

// Socket.IO protocol document, "Packet encoding" examples.
TEST(SocketIoPacket, SpecExamples) {
    expect_wire({PacketType::connect, "/", std::nullopt, nullptr}, "0");
    expect_wire({PacketType::connect, "/admin", std::nullopt, {{"sid", "oSO0OpakMV_3jnilAAAA"}}},
                R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})");
    expect_wire({PacketType::connect_error, "/", std::nullopt, {{"message", "Not authorized"}}},
                R"(4{"message":"Not authorized"})");
    expect_wire({PacketType::event, "/", std::nullopt, {"foo"}}, R"(2["foo"])");
    expect_wire({PacketType::event, "/admin", std::nullopt, {"bar"}}, R"(2/admin,["bar"])");
    expect_wire({PacketType::binary_event, "/", std::nullopt, {"baz", bytes("\x01\x02\x03\x04")}},
                R"(51-["baz",{"_placeholder":true,"num":0}])", {"\x01\x02\x03\x04"});
    expect_wire({PacketType::binary_event,
                 "/admin",
                 std::nullopt,
                 {"baz", bytes("\x01\x02"), bytes("\x03\x04")}},
                R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
                {"\x01\x02", "\x03\x04"});
    expect_wire({PacketType::event, "/", 12, {"foo"}}, R"(212["foo"])");
    expect_wire({PacketType::ack, "/admin", 13, {"bar"}}, R"(3/admin,13["bar"])");
    expect_wire({PacketType::binary_ack, "/", 15, {"bar", bytes("\x01\x02\x03\x04")}},
                R"(61-15["bar",{"_placeholder":true,"num":0}])", {"\x01\x02\x03\x04"});
    expect_wire({PacketType::disconnect, "/", std::nullopt, nullptr}, "1");
    expect_wire({PacketType::disconnect, "/admin", std::nullopt, nullptr}, "1/admin,");
}

// The sample session of the same document (without the Engine.IO "4").
TEST(SocketIoPacket, SpecSampleSession) {
    expect_wire({PacketType::connect, "/", std::nullopt, {{"sid", "wZX3oN0bSVIhsaknAAAI"}}},
                R"(0{"sid":"wZX3oN0bSVIhsaknAAAI"})");
    expect_wire({PacketType::event, "/", std::nullopt, {"hey", "Jude"}}, R"(2["hey","Jude"])");
    expect_wire({PacketType::connect, "/admin", std::nullopt, nullptr}, "0/admin,");
    expect_wire({PacketType::connect, "/admin", std::nullopt, {{"sid", "-G5j-67EZFp-q59rADQM"}}},
                R"(0/admin,{"sid":"-G5j-67EZFp-q59rADQM"})");
    expect_wire({PacketType::event, "/admin", 1, {"tellme"}}, R"(2/admin,1["tellme"])");
    expect_wire({PacketType::ack, "/admin", 1, {bytes("\xde\xad")}},
                R"(61-/admin,1[{"_placeholder":true,"num":0}])", {"\xde\xad"});
}

// The reference parser's round-trip cases.
TEST(SocketIoPacket, ReferenceParserRoundTrips) {
    expect_wire({PacketType::connect, "/woot", std::nullopt, {{"token", "123"}}},
                R"(0/woot,{"token":"123"})");
    expect_wire({PacketType::disconnect, "/woot", std::nullopt, nullptr}, "1/woot,");
    expect_wire({PacketType::event, "/", std::nullopt, {"a", 1, json::object()}}, R"(2["a",1,{}])");
    expect_wire({PacketType::event, "/test", 1, {"a", 1, json::object()}}, R"(2/test,1["a",1,{}])");
    expect_wire({PacketType::ack, "/", 123, {"a", 1, json::object()}}, R"(3123["a",1,{}])");
    expect_wire({PacketType::connect_error, "/", std::nullopt, "Unauthorized"},
                R"(4"Unauthorized")");
    expect_wire({PacketType::event, "/cool", 23, {"a", bytes("abc")}},
                R"(51-/cool,23["a",{"_placeholder":true,"num":0}])", {"abc"});
    expect_wire({PacketType::event, "/cool", 23, {"a", {{"b", {"c", bytes("abc")}}}}},
                R"(51-/cool,23["a",{"b":["c",{"_placeholder":true,"num":0}]}])", {"abc"});
    expect_wire({PacketType::ack, "/back", 127, {"a", bytes("xxx"), json::object()}},
                R"(61-/back,127["a",{"_placeholder":true,"num":0},{}])", {"xxx"});
}

TEST(SocketIoPacket, PlaceholdersAreNumberedInDocumentOrder) {
    json data = {"mix", {{"a", bytes("1")}, {"b", {bytes("2"), {{"c", bytes("3")}}}}}, bytes("4")};
    expect_wire(
        {PacketType::event, "/", std::nullopt, data},
        R"(54-["mix",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},)"
        R"({"c":{"_placeholder":true,"num":2}}]},{"_placeholder":true,"num":3}])",
        {"1", "2", "3", "4"});
}

TEST(SocketIoPacket, AudioFrameShape) {
    std::string opus(100, '\0');
    for (std::size_t i = 0; i < opus.size(); ++i) opus[i] = static_cast<char>(i * 7);
    const Packet p{PacketType::event,
                   "/",
                   std::nullopt,
                   {"audio", {{"seq", 7}, {"t", 1700000000123}}, bytes(opus)}};
    expect_wire(p, R"(51-["audio",{"seq":7,"t":1700000000123},{"_placeholder":true,"num":0}])",
                {opus});
    // Appending after an Engine.IO "4" gives the WebSocket text frame in one go.
    std::string frame = "4";
    std::vector<std::string> attachments;
    encode_append(p, frame, attachments);
    EXPECT_EQ(frame, R"(451-["audio",{"seq":7,"t":1700000000123},{"_placeholder":true,"num":0}])");
    EXPECT_EQ(attachments, std::vector<std::string>{opus});
}

TEST(SocketIoPacket, BinaryTypeWithoutBytesIsSentPlain) {
    EXPECT_EQ(encode({PacketType::binary_event, "/", std::nullopt, {"x"}}).text, R"(2["x"])");
    EXPECT_EQ(encode({PacketType::binary_ack, "/", 4, json::array()}).text, "34[]");
}

TEST(SocketIoPacket, EmptyNamespaceMeansMain) {
    EXPECT_EQ(encode({PacketType::event, "", std::nullopt, {"x"}}).text, R"(2["x"])");
}

TEST(SocketIoPacket, JsonTextMatchesNlohmannDump) {
    const json values[] = {
        {"s", "quote\" backslash\\ slash/ nl\n tab\t cr\r bs\b ff\f \x01\x1f\x7f"},
        {"unicode", "\xe2\x82\xac \xf0\x9f\x8e\xb5 \xc3\xa9"},
        {"n", -42, 0, 18446744073709551615ull, -9223372036854775807ll - 1, 1.5, 0.1, 1e300, -0.0,
         2.0},
        {"t", true, false, nullptr, json::array(), json::object(), {{"k\"ey", {{"", 1}}}}},
    };
    for (const json& v : values) {
        EXPECT_EQ(encode({PacketType::event, "/", std::nullopt, v}).text, "2" + v.dump());
    }
}

TEST(SocketIoPacket, RefusesWhatCannotBeSent) {
    EXPECT_THROW(encode({PacketType::connect, "/", std::nullopt, {{"b", bytes("x")}}}),
                 std::invalid_argument);
    EXPECT_THROW(encode({PacketType::event, "admin", std::nullopt, {"x"}}), std::invalid_argument);
    EXPECT_THROW(encode({PacketType::event, "/a,b", std::nullopt, {"x"}}), std::invalid_argument);
    EXPECT_THROW(encode({PacketType::event, "/", kMaxAckId + 1, {"x"}}), std::invalid_argument);
    EXPECT_EQ(encode({PacketType::event, "/", kMaxAckId, {"x"}}).text, "29007199254740991[\"x\"]");
    EXPECT_THROW(encode({PacketType::event, "/", std::nullopt, {"\xff"}}), std::invalid_argument);
    EXPECT_THROW(encode({PacketType::event, "/", std::nullopt, {{{"\xc0\xaf", 1}}}}),
                 std::invalid_argument);
    EXPECT_THROW(encode({static_cast<PacketType>('7'), "/", std::nullopt, nullptr}),
                 std::invalid_argument);

    // encode_append leaves its outputs alone when it throws.
    std::string text = "4";
    std::vector<std::string> attachments{"old"};
    EXPECT_THROW(encode_append({PacketType::event, "/", std::nullopt, {"a", bytes("x"), "\xff"}},
                               text, attachments),
                 std::invalid_argument);
    EXPECT_EQ(text, "4");
    EXPECT_EQ(attachments, std::vector<std::string>{"old"});
}

TEST(SocketIoPacket, EventName) {
    EXPECT_EQ(event_name({PacketType::event, "/", std::nullopt, {"mic", {{"seq", 1}}}}), "mic");
    EXPECT_EQ(event_name({PacketType::binary_event, "/", std::nullopt, {"mic"}}), "mic");
    EXPECT_EQ(event_name({PacketType::ack, "/", 1, {"mic"}}), "");
    EXPECT_EQ(event_name({PacketType::event, "/", std::nullopt, json::array()}), "");
    EXPECT_EQ(event_name({PacketType::event, "/", std::nullopt, {1, "x"}}), "");
    EXPECT_EQ(event_name({PacketType::connect, "/", std::nullopt, nullptr}), "");
}

}  // namespace
}  // namespace clubvoice::sio
