// The cluster link's figures for /status ("cluster") and /metrics: one
// table, both places.
#include "cluster_link.hpp"

#include <array>

namespace clubvoice {
namespace {

using F = ClusterLink::Figures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_cluster_redis_up", MetricType::gauge, "bool", "/cluster/redis_up",
      "Whether the origin or edge is connected to Redis (false when standalone)."},
     [](const F& f) { return f.redis_up ? 1.0 : 0.0; }},
    {{"clubvoice_cluster_stream_up", MetricType::gauge, "bool", "/cluster/stream_up",
      "An edge: whether the origin's frames arrive (one within the last second)."},
     [](const F& f) { return f.stream_up ? 1.0 : 0.0; }},
    {{"clubvoice_cluster_frames_published_total", MetricType::counter, "", "/cluster/published",
      "The origin: frames published to the room's Redis channel."},
     [](const F& f) { return as_metric(f.published); }},
    {{"clubvoice_cluster_frames_publish_dropped_total", MetricType::counter, "",
      "/cluster/publish_dropped",
      "The origin: frames not published because Redis left 5 s of them unanswered."},
     [](const F& f) { return as_metric(f.publish_dropped); }},
    {{"clubvoice_cluster_frames_received_total", MetricType::counter, "", "/cluster/received",
      "An edge: the origin's frames received and served."},
     [](const F& f) { return as_metric(f.received); }},
    {{"clubvoice_cluster_frames_missed_total", MetricType::counter, "", "/cluster/missed",
      "An edge: frames missing between two it received (a gap in seq: Redis or the network)."},
     [](const F& f) { return as_metric(f.missed); }},
    {{"clubvoice_cluster_messages_invalid_total", MetricType::counter, "", "/cluster/invalid",
      "An edge: messages on the room's channel that are not frames."},
     [](const F& f) { return as_metric(f.invalid); }},
    {{"clubvoice_cluster_frames_mismatched_total", MetricType::counter, "", "/cluster/mismatched",
      "An edge: frames whose channels or duration differ from this edge's audio settings."},
     [](const F& f) { return as_metric(f.mismatched); }},
    {{"clubvoice_cluster_origin_restarts_total", MetricType::counter, "",
      "/cluster/origin_restarts", "An edge: times the origin's seq started again (it restarted)."},
     [](const F& f) { return as_metric(f.origin_restarts); }},
    {{"clubvoice_cluster_room_clients", MetricType::gauge, "", "/cluster/room_clients",
      "The room's clients on every node of its cluster, as last counted through Redis."},
     [](const F& f) { return as_metric(f.room_clients); }},
    {{"clubvoice_cluster_redis_losses_total", MetricType::counter, "", "/cluster/redis_losses",
      "Failed or lost connections to Redis (each retried, 0.5 s doubling to 10 s)."},
     [](const F& f) { return as_metric(f.redis_losses); }},
});

}  // namespace

void ClusterLink::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void ClusterLink::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

void ClusterLink::report_status(nlohmann::json& status) const {
    StatusWriter figures(status);
    report(figures);
    nlohmann::json& cluster = status["cluster"];
    cluster["role"] = to_string(role_);
    cluster["room"] = config_.cluster.room;
    if (role_ != ClusterRole::standalone) cluster["state"] = problem();
}

}  // namespace clubvoice
