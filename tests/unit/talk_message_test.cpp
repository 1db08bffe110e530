// The talk messages of a cluster: what an edge sends the origin and what the
// origin sends back keep every field through a round trip, and what is not
// such a message, or is out of bounds, is refused with a reason.
#include "talk_message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clubvoice {
namespace {

// A 20 ms SILK packet (TOC 0x08, one frame) with two payload bytes.
const std::string kOpus("\x08\xff\xfe", 3);

TalkIn mic(std::optional<std::uint64_t> seq) {
    TalkIn m;
    m.kind = TalkIn::Kind::mic;
    m.node = "node1";
    m.id = "client1";
    m.mic.seq = seq;
    m.mic.opus = kOpus;
    return m;
}

TEST(TalkMessage, MicPacketRoundTrip) {
    for (auto seq :
         {std::optional<std::uint64_t>(0x0102030405060708ULL), std::optional<std::uint64_t>()}) {
        std::string message;
        encode_talk_in(mic(seq), message);
        EXPECT_EQ(message[0], 'M');
        const auto back = decode_talk_in(message);
        ASSERT_TRUE(back);
        EXPECT_EQ(back->kind, TalkIn::Kind::mic);
        EXPECT_EQ(back->node, "node1");
        EXPECT_EQ(back->id, "client1");
        EXPECT_EQ(back->mic.seq, seq);
        EXPECT_EQ(back->mic.opus, kOpus);
        EXPECT_EQ(back->mic.samples, 960);
    }
}

TEST(TalkMessage, RequestRoundTrip) {
    TalkIn request;
    request.kind = TalkIn::Kind::talk;
    request.node = "n";
    request.id = "c";
    request.name = "Anna";
    request.on = true;
    request.allowed = true;
    request.req = 42;
    std::string message;
    encode_talk_in(request, message);
    const auto back = decode_talk_in(message);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->kind, TalkIn::Kind::talk);
    EXPECT_EQ(back->name, "Anna");
    EXPECT_TRUE(back->on);
    EXPECT_TRUE(back->allowed);
    EXPECT_EQ(back->req, 42U);
}

TEST(TalkMessage, RefusesWhatIsNotAMessage) {
    std::string problem;
    EXPECT_FALSE(decode_talk_in("", &problem));
    EXPECT_EQ(problem, "an empty message");
    EXPECT_FALSE(decode_talk_in("X", &problem));
    EXPECT_FALSE(decode_talk_in("J[1]", &problem));
    EXPECT_EQ(problem, "not a JSON object");
    EXPECT_FALSE(decode_talk_in(R"(J{"kind":"talk","node":"n","id":"c"})", &problem));
    EXPECT_EQ(problem, "talk: needs name, on, allowed and req");
    EXPECT_FALSE(decode_talk_in(R"(J{"kind":"leave","node":"n","id":""})", &problem));
    EXPECT_EQ(problem, "no client id");
    const std::string long_id(kMaxTalkIdBytes + 1, 'x');
    EXPECT_FALSE(decode_talk_in(R"(J{"kind":"alive","node":")" + long_id + "\"}", &problem));
    // A mic packet cut short, or whose Opus a `mic` event would not pass.
    std::string message;
    encode_talk_in(mic(1), message);
    EXPECT_FALSE(decode_talk_in(message.substr(0, message.size() - kOpus.size()), &problem));
    EXPECT_FALSE(decode_talk_in(message.substr(0, 5), &problem));
    EXPECT_EQ(problem, "mic: a node or client id missing");
}

TEST(TalkMessage, OriginMessagesRoundTrip) {
    const nlohmann::json answer = {
        {"granted", false}, {"holder", {{"id", "c2"}, {"name", "Bo"}}}, {"reason", "held"}};
    const auto back =
        decode_talk_out(encode_talk_out({TalkOut::Kind::answer, "n", "c", {}, 7, answer}));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->kind, TalkOut::Kind::answer);
    EXPECT_EQ(back->req, 7U);
    EXPECT_EQ(back->body, answer);

    const nlohmann::json state = {{"talkers", {{{"id", "c2"}, {"name", "Bo"}}}},
                                  {"floor", nullptr}};
    const auto again =
        decode_talk_out(encode_talk_out({TalkOut::Kind::state, {}, {}, {}, 0, state}));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, state);

    std::string problem;
    EXPECT_FALSE(decode_talk_out(R"({"kind":"state","state":{"talkers":[{"id":1}],"floor":null}})",
                                 &problem));
    EXPECT_EQ(problem, "state: not {talkers, floor}");
    EXPECT_FALSE(
        decode_talk_out(R"({"kind":"answer","node":"n","id":"c","req":1,"answer":{}})", &problem));
    EXPECT_FALSE(decode_talk_out(std::string(kMaxTalkControlBytes + 1, ' '), &problem));
}

}  // namespace
}  // namespace clubvoice
