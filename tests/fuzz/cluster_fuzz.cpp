// libFuzzer target for what nodes of a cluster read from Redis: the first
// byte picks the reader, the rest is the message.
//   0: decode_cluster_frame (an edge, the room's audio channel)
//   1: decode_talk_in (the origin, the room's talk list)
//   2: decode_talk_out (an edge, the room's talk channel)
// None may throw or read out of bounds, a refusal names its reason, and
// what is accepted is in bounds and encodes back to what was read.
#include "cluster_frame.hpp"
#include "talk_message.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "cluster_fuzz: %s\n", what);
    std::abort();
}

void frame(std::string_view message) {
    std::string problem;
    const auto frame = clubvoice::decode_cluster_frame(message, &problem);
    if (!frame) {
        if (problem.empty()) fail("a frame refused without a reason");
        return;
    }
    if ((frame->channels != 1 && frame->channels != 2) || frame->opus.empty() ||
        frame->opus.size() > clubvoice::kMaxClusterOpusBytes) {
        fail("a frame out of bounds was accepted");
    }
    std::string again;
    clubvoice::encode_cluster_frame(*frame, again);
    if (again != message) fail("the frame read does not encode back to its message");
}

bool id_ok(const std::string& id) {
    return !id.empty() && id.size() <= clubvoice::kMaxTalkIdBytes;
}

void talk_in(std::string_view message) {
    using clubvoice::TalkIn;
    std::string problem;
    const auto in = clubvoice::decode_talk_in(message, &problem);
    if (!in) {
        if (problem.empty()) fail("a talk message refused without a reason");
        return;
    }
    if (!id_ok(in->node) || (in->kind != TalkIn::Kind::alive && !id_ok(in->id))) {
        fail("a talk message with a bad id was accepted");
    }
    if (in->kind == TalkIn::Kind::mic) {
        if (in->mic.samples <= 0 || in->mic.opus.empty()) fail("an unchecked mic packet");
        std::string again;
        clubvoice::encode_talk_in(*in, again);
        if (again != message) fail("the mic packet read does not encode back");
        return;
    }
    // JSON may be spelled many ways; what was read must read back the same.
    std::string again;
    clubvoice::encode_talk_in(*in, again);
    const auto twice = clubvoice::decode_talk_in(again);
    if (!twice || twice->kind != in->kind || twice->node != in->node || twice->id != in->id ||
        twice->name != in->name || twice->on != in->on || twice->allowed != in->allowed ||
        twice->req != in->req) {
        fail("a talk message does not survive its own encoding");
    }
}

void talk_out(std::string_view message) {
    std::string problem;
    const auto out = clubvoice::decode_talk_out(message, &problem);
    if (!out) {
        if (problem.empty()) fail("an origin's message refused without a reason");
        return;
    }
    const auto twice = clubvoice::decode_talk_out(clubvoice::encode_talk_out(*out));
    if (!twice || twice->kind != out->kind || twice->node != out->node || twice->id != out->id ||
        twice->why != out->why || twice->req != out->req || twice->body != out->body) {
        fail("an origin's message does not survive its own encoding");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            frame(message);
            break;
        case 1:
            talk_in(message);
            break;
        default:
            talk_out(message);
            break;
    }
    return 0;
}
