// libFuzzer target for what an edge reads from the room's Redis channel:
// decode_cluster_frame on arbitrary bytes. It must never throw or read out
// of bounds, and a message it accepts must be exactly what
// encode_cluster_frame makes of the frame it read (nothing ignored).
#include "cluster_frame.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view message(reinterpret_cast<const char*>(data), size);
    std::string problem;
    const auto frame = clubvoice::decode_cluster_frame(message, &problem);
    if (!frame) {
        if (problem.empty()) {
            std::fprintf(stderr, "cluster_fuzz: a refusal without a reason\n");
            std::abort();
        }
        return 0;
    }
    if ((frame->channels != 1 && frame->channels != 2) || frame->opus.empty() ||
        frame->opus.size() > clubvoice::kMaxClusterOpusBytes) {
        std::fprintf(stderr, "cluster_fuzz: a frame out of bounds was accepted\n");
        std::abort();
    }
    std::string again;
    clubvoice::encode_cluster_frame(*frame, again);
    if (again != message) {
        std::fprintf(stderr, "cluster_fuzz: the frame read does not encode back to its message\n");
        std::abort();
    }
    return 0;
}
