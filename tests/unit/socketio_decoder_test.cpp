#include "socketio_decoder.hpp"

#include "protocol_error.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace clubvoice::sio {
namespace {

using nlohmann::json;
using namespace std::literals;

json bytes(std::string_view b) {
    return json::binary(json::binary_t::container_type(b.begin(), b.end()));
}

Packet decode_one(std::string_view text, DecoderLimits limits = {}) {
    Decoder decoder(limits);
    std::optional<Packet> p = decoder.feed_text(text);
    if (!p) throw std::logic_error("packet waits for attachments");
    return *p;
}

std::string error_of(std::string_view text, DecoderLimits limits = {}) {
    try {
        Decoder decoder(limits);
        decoder.feed_text(text);
    } catch (const ProtocolError& e) {
        return e.what();
    }
    return "(no error)";
}

// What a binary packet sequence (header, then attachments) fails with.
std::string error_of_sequence(std::string_view header, const std::vector<std::string>& parts) {
    Decoder decoder;
    try {
        decoder.feed_text(header);
        for (const std::string& part : parts) decoder.feed_binary(part);
    } catch (const ProtocolError& e) {
        EXPECT_FALSE(decoder.awaiting_attachments());
        return e.what();
    }
    return "(no error)";
}

TEST(SocketIoDecoder, PlainPackets) {
    EXPECT_EQ(decode_one("0"), (Packet{PacketType::connect, "/", std::nullopt, nullptr}));
    EXPECT_EQ(
        decode_one(R"(0{"token":"abc","name":"Ann"})"),
        (Packet{PacketType::connect, "/", std::nullopt, {{"token", "abc"}, {"name", "Ann"}}}));
    EXPECT_EQ(decode_one("0/admin"),
              (Packet{PacketType::connect, "/admin", std::nullopt, nullptr}));
    EXPECT_EQ(decode_one("0/,"), (Packet{PacketType::connect, "/", std::nullopt, nullptr}));
    EXPECT_EQ(decode_one(R"(2["talk",{"on":true}])"),
              (Packet{PacketType::event, "/", std::nullopt, {"talk", {{"on", true}}}}));
    EXPECT_EQ(decode_one(R"(2007["x"])"), (Packet{PacketType::event, "/", 7, {"x"}}));
    EXPECT_EQ(decode_one("312[]"), (Packet{PacketType::ack, "/", 12, json::array()}));
    EXPECT_EQ(decode_one("1"), (Packet{PacketType::disconnect, "/", std::nullopt, nullptr}));
    EXPECT_EQ(decode_one(R"(2["a"] )"), (Packet{PacketType::event, "/", std::nullopt, {"a"}}));
}

TEST(SocketIoDecoder, AckIdBounds) {
    EXPECT_EQ(decode_one(R"(29007199254740991["x"])").id, kMaxAckId);
    EXPECT_EQ(error_of(R"(29007199254740992["x"])"), "Socket.IO packet: ack id too large");
    EXPECT_EQ(error_of(R"(218446744073709551616["x"])"), "Socket.IO packet: ack id too large");
    EXPECT_EQ(error_of("2" + std::string(100000, '9') + R"(["x"])"),
              "Socket.IO packet: ack id too large");
}

// Every malformed packet in the reference parser's tests, plus the rules of
// the protocol document it does not check.
TEST(SocketIoDecoder, RefusesMalformedPackets) {
    const std::vector<std::string> bad = {
        // reference parser: "invalid payload" / "unknown packet type" / "Illegal attachments"
        R"(442["some","data")",
        R"(0/admin,"invalid")",
        "0[]",
        "1/admin,{}",
        R"(2/admin,"invalid)",
        "2/admin,{}",
        R"(2[{"toString":"foo"}])",
        R"(2[true,"foo"])",
        R"(2[null,"bar"])",
        R"(2["connect"])",
        R"(2["disconnect","123"])",
        "999",
        "5",
        "51",
        "5a-",
        "51.23-",
        // reserved names, the rest of the list
        R"(2["connect_error"])",
        R"(2["disconnecting"])",
        R"(2["newListener"])",
        R"(2["removeListener"])",
        // the protocol document: EVENT payload mandatory and a non-empty array
        "2",
        "2[]",
        R"(2{"a":1})",
        "2/admin,",
        "212",
        // ACK payload mandatory and an array, and it answers an id
        "312",
        R"(312{})",
        R"(3["a"])",
        R"(3/admin,["a"])",
        // event names are strings here (the reference also takes numbers)
        R"(2[1,"a",{}])",
        // ids only on what can be acknowledged
        "01{}",
        "11",
        R"(0/admin,5{"a":1})",
        // CONNECT_ERROR only from a server
        R"(4{"message":"x"})",
        R"(4"x")",
        // not JSON, trailing garbage, whitespace only
        R"(2["a"]x)",
        R"(2["a"][])",
        "0 ",
        "0{",
        R"(2["a",])",
        R"(2['a'])",
        // numbers that would be infinite
        R"(2["a",1e400])",
        R"(2["a",-1e400])",
        // binary header rules
        R"(5-["a"])",
        R"(50-["a"])",
        R"(5-1["a"])",
        R"(51["a"])",
        R"(6x-1[])",
        // empty, unknown type
        "",
        "7",
        "a",
        "/",
        "\x00"s,
    };
    for (const std::string& text : bad) {
        EXPECT_THROW(decode_one(text), ProtocolError) << text;
    }
}

TEST(SocketIoDecoder, ErrorMessagesSayWhat) {
    EXPECT_EQ(error_of("999"), "Socket.IO packet: unknown packet type");
    EXPECT_EQ(error_of("5a-"), "Socket.IO packet: illegal attachment count");
    EXPECT_EQ(error_of(R"(2["connect"])"), "Socket.IO packet: reserved event name");
    EXPECT_EQ(error_of(R"(0[])"), "Socket.IO packet: CONNECT payload must be an object");
    EXPECT_EQ(error_of("1/admin,{}"), "Socket.IO packet: DISCONNECT must not carry a payload");
    EXPECT_EQ(error_of(R"(4"x")"), "Socket.IO packet: CONNECT_ERROR is sent by servers only");
    EXPECT_EQ(error_of(R"(3["a"])"), "Socket.IO packet: ACK without an id");
    EXPECT_EQ(error_of(R"(2["a")"), "Socket.IO packet: payload is not valid JSON");
}

TEST(SocketIoDecoder, ConnectErrorWhenAllowed) {
    const DecoderLimits client{.allow_connect_error = true};
    EXPECT_EQ(decode_one(R"(4{"message":"Not authorized"})", client).data,
              (json{{"message", "Not authorized"}}));
    EXPECT_EQ(decode_one(R"(4"Unauthorized")", client).data, "Unauthorized");
    EXPECT_THROW(decode_one("4", client), ProtocolError);
    EXPECT_THROW(decode_one("4[]", client), ProtocolError);
}

TEST(SocketIoDecoder, ReassemblesSeveralAttachments) {
    Decoder decoder;
    EXPECT_FALSE(decoder.awaiting_attachments());
    EXPECT_EQ(
        decoder.feed_text(
            R"(53-/admin,9["mix",{"_placeholder":true,"num":2},{"k":[{"_placeholder":true,"num":0}]},)"
            R"({"_placeholder":true,"num":1}])"),
        std::nullopt);
    EXPECT_TRUE(decoder.awaiting_attachments());
    EXPECT_EQ(decoder.feed_binary("zero"), std::nullopt);
    EXPECT_EQ(decoder.feed_binary(""), std::nullopt);
    std::optional<Packet> p = decoder.feed_binary("\x00\xff\x1e"s);
    ASSERT_TRUE(p);
    EXPECT_FALSE(decoder.awaiting_attachments());
    EXPECT_EQ(*p, (Packet{PacketType::event,
                          "/admin",
                          9,
                          {"mix", bytes("\x00\xff\x1e"s), {{"k", {bytes("zero")}}}, bytes("")}}));

    // The decoder is ready for the next packet.
    EXPECT_EQ(decoder.feed_text(R"(2["next"])")->data, (json{"next"}));
}

TEST(SocketIoDecoder, BinaryAck) {
    Decoder decoder;
    EXPECT_EQ(decoder.feed_text(R"(61-15["bar",{"_placeholder":true,"num":0}])"), std::nullopt);
    EXPECT_EQ(decoder.feed_binary("\x01\x02\x03\x04"),
              (Packet{PacketType::ack, "/", 15, {"bar", bytes("\x01\x02\x03\x04")}}));
}

TEST(SocketIoDecoder, MaxAttachments) {
    std::string ten = R"(510-["a")";
    for (int i = 0; i < 10; ++i) ten += R"(,{"_placeholder":true,"num":)" + std::to_string(i) + "}";
    ten += "]";
    Decoder decoder;
    EXPECT_EQ(decoder.feed_text(ten), std::nullopt);
    for (int i = 0; i < 9; ++i) EXPECT_EQ(decoder.feed_binary("x"), std::nullopt);
    EXPECT_TRUE(decoder.feed_binary("x"));

    EXPECT_EQ(error_of(R"(511-["a"])"), "Socket.IO packet: attachment count too large");
    // Reference parser case, with a limit of 2.
    EXPECT_THROW(
        decode_one(
            R"(53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}])",
            {.max_attachments = 2}),
        ProtocolError);
    EXPECT_EQ(error_of(R"(53-["a"])", {.max_attachments = 2}),
              "Socket.IO packet: attachment count too large");
    EXPECT_EQ(error_of(R"(51-["a"])", {.max_attachments = 0}),
              "Socket.IO packet: attachment count too large");
    // A huge count is refused at the first digit past the limit.
    EXPECT_EQ(error_of("5" + std::string(1000000, '9') + "-[]"),
              "Socket.IO packet: attachment count too large");
    EXPECT_EQ(error_of("518446744073709551617-[]"), "Socket.IO packet: attachment count too large");
}

TEST(SocketIoDecoder, RefusesBadPlaceholders) {
    // Reference parser: num is a string; num out of range.
    EXPECT_EQ(error_of(R"(51-["hello",{"_placeholder":true,"num":"splice"}])"),
              R"(Socket.IO packet: malformed placeholder (want {"_placeholder":true,"num":N}))");
    EXPECT_EQ(error_of(R"(51-["hello",{"_placeholder":true,"num":1}])"),
              "Socket.IO packet: placeholder num out of range");
    EXPECT_EQ(error_of(R"(52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":1}])"),
              "Socket.IO packet: placeholder num used twice");
    EXPECT_EQ(error_of(R"(52-["a",{"_placeholder":true,"num":0}])"),
              "Socket.IO packet: an attachment has no placeholder");
    EXPECT_EQ(error_of(R"(51-["hello"])"), "Socket.IO packet: an attachment has no placeholder");
    EXPECT_EQ(error_of(R"(2["a",{"_placeholder":true,"num":0}])"),
              "Socket.IO packet: placeholder in a packet without attachments");
    for (const char* bad : {
             R"(51-["a",{"_placeholder":false,"num":0}])", R"(51-["a",{"_placeholder":1,"num":0}])",
             R"(51-["a",{"_placeholder":true}])", R"(51-["a",{"_placeholder":true,"num":0,"x":1}])",
             R"(51-["a",{"_placeholder":true,"n":0}])",
             R"(51-["a",{"_placeholder":true,"num":0.0}])",
             R"(51-["a",{"_placeholder":true,"num":-1}])",
             R"(51-["a",{"_placeholder":true,"num":-0}])",
             R"(51-["a",{"_placeholder":true,"num":null}])",
             R"(51-[{"_placeholder":true,"num":0}])",  // the event name itself
         }) {
        EXPECT_THROW(decode_one(bad), ProtocolError) << bad;
    }
}

TEST(SocketIoDecoder, SequenceErrorsResetTheDecoder) {
    // Reference parser: binary without a header; text while reconstructing.
    EXPECT_EQ(error_of_sequence("", {}), "Socket.IO packet: empty message");
    Decoder decoder;
    EXPECT_THROW(decoder.feed_binary("world"), ProtocolError);
    EXPECT_EQ(decoder.feed_text(R"(51-["hello",{"_placeholder":true,"num":0}])"), std::nullopt);
    try {
        decoder.feed_text(R"(2["hello"])");
        ADD_FAILURE() << "text accepted while an attachment was awaited";
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "Socket.IO packet: text message while attachments are awaited");
    }
    EXPECT_FALSE(decoder.awaiting_attachments());
    // The attachment that was awaited now has no packet.
    EXPECT_THROW(decoder.feed_binary("world"), ProtocolError);
    // Reference parser: decoding resumes after a reset.
    EXPECT_EQ(decoder.feed_text(R"(2["hello"])")->data, (json{"hello"}));
    // A failed header leaves nothing pending either.
    EXPECT_THROW(decoder.feed_text(R"(52-["a",{"_placeholder":true,"num":0}])"), ProtocolError);
    EXPECT_FALSE(decoder.awaiting_attachments());
    EXPECT_THROW(decoder.feed_binary("x"), ProtocolError);
}

TEST(SocketIoDecoder, DepthLimit) {
    auto nested = [](std::size_t depth) {
        return "2[\"a\"," + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "]";
    };
    EXPECT_NO_THROW(decode_one(nested(32)));
    EXPECT_EQ(error_of(nested(33)), "Socket.IO packet: JSON nested deeper than 32");
    EXPECT_NO_THROW(decode_one(nested(4), {.max_json_depth = 4}));
    EXPECT_THROW(decode_one(nested(5), {.max_json_depth = 4}), ProtocolError);
    // Brackets inside strings (also after escaped quotes) are not nesting.
    EXPECT_NO_THROW(decode_one("2[\"a\",\"" + std::string(1000, '[') + "\\\"" +
                               std::string(1000, '{') + "\"]"));
    EXPECT_THROW(decode_one("2[\"a\\\\\"," + std::string(40, '[') + "]"), ProtocolError);
}

TEST(SocketIoDecoder, HugeNestingIsRefusedFast) {
    const std::string deep = "2" + std::string(100000, '[');
    const std::string deep_objects = "2[\"a\"," + std::string(100000, '{');
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(error_of(deep), "Socket.IO packet: JSON nested deeper than 32");
    EXPECT_EQ(error_of(deep_objects), "Socket.IO packet: JSON nested deeper than 32");
    EXPECT_EQ(error_of(deep + std::string(100000, ']')),
              "Socket.IO packet: JSON nested deeper than 32");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, 50ms);  // it stops at the 33rd bracket
}

TEST(SocketIoDecoder, InvalidUtf8IsAnError) {
    for (const std::string& bad : {
             "2[\"\xff\"]"s,              // not a UTF-8 byte
             "2[\"\xc0\xaf\"]"s,          // overlong '/'
             "2[\"\xed\xa0\x80\"]"s,      // encoded surrogate
             "2[\"\xf4\x90\x80\x80\"]"s,  // above U+10FFFF
             "2[\"a\xe2\x82\"]"s,         // truncated
             "2[\"\\ud800\"]"s,           // escaped lone surrogate
             "2[\"a\",{\"\xfe\":1}]"s,    // in a key
             "0/\xff,"s,                  // in the namespace
             "2\xe2\x82\xac[\"a\"]"s,     // outside strings
         }) {
        EXPECT_THROW(decode_one(bad), ProtocolError) << testing::PrintToString(bad);
    }
    EXPECT_EQ(decode_one("2[\"\xe2\x82\xac \\ud83c\\udfb5\"]").data,
              (json{"\xe2\x82\xac \xf0\x9f\x8e\xb5"}));
    EXPECT_EQ(decode_one("0/caf\xc3\xa9,").nsp, "/caf\xc3\xa9");
}

TEST(SocketIoDecoder, NamespaceEndsAtTheFirstComma) {
    // As in the reference parser: no comma means the namespace runs to the end.
    EXPECT_EQ(decode_one("1/admin").nsp, "/admin");
    EXPECT_EQ(decode_one(R"(2/admin,["a,b"])").nsp, "/admin");
    EXPECT_THROW(decode_one(R"(2/admin["a","b"])"), ProtocolError);
}

}  // namespace
}  // namespace clubvoice::sio
