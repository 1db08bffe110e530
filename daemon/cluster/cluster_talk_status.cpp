// The figures of a cluster's talk for /status and /metrics: one table.
#include "cluster_talk_figures.hpp"

#include <array>

namespace clubvoice {
namespace {

using F = ClusterTalkFigures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_cluster_talkers", MetricType::gauge, "", "/cluster_talk/talkers",
      "The origin: talkers on edges; an edge: its clients the origin lets talk."},
     [](const F& f) { return static_cast<double>(f.talkers); }},
    {{"clubvoice_cluster_talk_requests_total", MetricType::counter, "", "/cluster_talk/requests",
      "talk requests an edge relayed to the origin, or the origin answered for edges."},
     [](const F& f) { return as_metric(f.requests); }},
    {{"clubvoice_cluster_talk_unanswered_total", MetricType::counter, "",
      "/cluster_talk/unanswered",
      "An edge: talk requests refused because the origin did not answer within 2 s."},
     [](const F& f) { return as_metric(f.unanswered); }},
    {{"clubvoice_cluster_talk_unreachable_total", MetricType::counter, "",
      "/cluster_talk/unreachable", "An edge: talk requests refused at once, Redis being away."},
     [](const F& f) { return as_metric(f.unreachable); }},
    {{"clubvoice_cluster_mic_packets_total", MetricType::counter, "", "/cluster_talk/mic_packets",
      "Mic packets an edge relayed, or the origin took from the room's list."},
     [](const F& f) { return as_metric(f.mic_packets); }},
    {{"clubvoice_cluster_mic_unsent_total", MetricType::counter, "", "/cluster_talk/mic_unsent",
      "An edge: mic packets not relayed (the client is not granted, or Redis is away)."},
     [](const F& f) { return as_metric(f.mic_unsent); }},
    {{"clubvoice_cluster_talk_invalid_total", MetricType::counter, "", "/cluster_talk/invalid",
      "Talk messages from Redis that failed their shape check (dropped)."},
     [](const F& f) { return as_metric(f.invalid); }},
    {{"clubvoice_cluster_talk_floods_total", MetricType::counter, "", "/cluster_talk/floods",
      "Talkers on edges closed for sending audio far faster than real time."},
     [](const F& f) { return as_metric(f.floods); }},
    {{"clubvoice_cluster_edges_lost_total", MetricType::counter, "", "/cluster_talk/edges_lost",
      "The origin: edges silent for 3 s whose talkers were let go (and any floor released)."},
     [](const F& f) { return as_metric(f.edges_lost); }},
});

}  // namespace

void report_cluster_talk(const ClusterTalkFigures& figures, MetricWriter& out) {
    write_metrics<F>(kMetrics, figures, out);
}

void describe_cluster_talk(MetricWriter& out) {
    write_metrics<F>(kMetrics, F{}, out);
}

}  // namespace clubvoice
