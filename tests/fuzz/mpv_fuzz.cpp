// libFuzzer target for what the socket at mpv.ipc_socket sends: mpv's JSON
// lines, or whatever else a process listening there writes.
//
// Input: the bytes mpv "sends", delivered in chunks whose sizes come from the
// first byte (as a socket splits them), then once more in one piece: both
// readings must count the same lines and refusals, and nothing may be kept
// beyond the longest line.
#include "mpv_replies.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "mpv_fuzz: invariant broken: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t step = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    clubvoice::MpvReplies chunked;
    std::uint64_t refused_chunked = 0;
    for (std::size_t at = 0; at < input.size(); at += step) {
        refused_chunked += chunked.feed(input.substr(at, step));
        require(chunked.pending_bytes() <= clubvoice::MpvReplies::kMaxLineBytes + step,
                "kept more than a line");
        require(chunked.last_error().size() <= clubvoice::MpvReplies::kMaxErrorChars + 3,
                "an error text longer than its bound");
    }
    clubvoice::MpvReplies whole;
    const std::uint64_t refused_whole = whole.feed(input);
    if (whole.dropped_bytes() == 0 && chunked.dropped_bytes() == 0) {
        require(whole.lines() == chunked.lines(), "chunking changed the lines");
        require(refused_whole == refused_chunked, "chunking changed the refusals");
    }
    return 0;
}
