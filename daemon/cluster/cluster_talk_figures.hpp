// What the talk of a cluster counts, on the origin (OriginTalk) or an edge
// (EdgeTalk): one table for /status ("cluster_talk") and /metrics.
// Thread: loop.
#pragma once

#include "metrics.hpp"

#include <cstddef>
#include <cstdint>

namespace clubvoice {

struct ClusterTalkFigures {
    std::size_t talkers = 0;        // the edges' talkers (origin); granted here (edge)
    std::uint64_t requests = 0;     // `talk` requests relayed (edge) or answered (origin)
    std::uint64_t unanswered = 0;   // an edge: requests the origin did not answer in time
    std::uint64_t unreachable = 0;  // an edge: requests refused at once, Redis away
    std::uint64_t mic_packets = 0;  // relayed (edge) or taken from the list (origin)
    std::uint64_t mic_unsent = 0;   // an edge: packets not relayed (not granted, Redis away)
    std::uint64_t invalid = 0;      // messages that failed their shape check
    std::uint64_t floods = 0;       // talkers closed for flooding
    std::uint64_t edges_lost = 0;   // the origin: edges silent for 3 s, their talkers let go
};

void report_cluster_talk(const ClusterTalkFigures& figures, MetricWriter& out);
void describe_cluster_talk(MetricWriter& out);

}  // namespace clubvoice
