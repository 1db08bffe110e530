// The Icecast source's figures for /status ("icecast") and /metrics: one
// table, both places.
#include "icecast_source.hpp"

#include <array>

namespace clubvoice {
namespace {

using F = IcecastSource::Figures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_icecast_enabled", MetricType::gauge, "bool", "/icecast/enabled",
      "Whether icecast.url is set."},
     [](const F& f) { return f.enabled ? 1.0 : 0.0; }},
    {{"clubvoice_icecast_up", MetricType::gauge, "bool", "/icecast/up",
      "Whether the source is connected to its Icecast mount."},
     [](const F& f) { return f.up ? 1.0 : 0.0; }},
    {{"clubvoice_icecast_connects_total", MetricType::counter, "", "/icecast/connects",
      "Successful source logins to the Icecast mount."},
     [](const F& f) { return as_metric(f.connects); }},
    {{"clubvoice_icecast_failures_total", MetricType::counter, "", "/icecast/failures",
      "Failed or lost Icecast connections (each followed by a retry with back-off)."},
     [](const F& f) { return as_metric(f.failures); }},
    {{"clubvoice_icecast_pages_total", MetricType::counter, "", "/icecast/pages",
      "Ogg pages sent to Icecast (headers included)."},
     [](const F& f) { return as_metric(f.pages); }},
    {{"clubvoice_icecast_bytes_total", MetricType::counter, "bytes", "/icecast/bytes",
      "Bytes of Ogg pages sent to Icecast."},
     [](const F& f) { return as_metric(f.bytes); }},
    {{"clubvoice_icecast_packets_dropped_total", MetricType::counter, "",
      "/icecast/packets_dropped",
      "Opus packets not handed to the Icecast thread because it was 2 s behind."},
     [](const F& f) { return as_metric(f.dropped); }},
    {{"clubvoice_icecast_server_queue_bytes", MetricType::gauge, "bytes", "/icecast/server_queue",
      "Bytes waiting for a slow Icecast server (past 64 KiB the connection is renewed)."},
     [](const F& f) { return as_metric(f.server_queue); }},
});

}  // namespace

void IcecastSource::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void IcecastSource::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

void IcecastSource::report_status(nlohmann::json& status) const {
    StatusWriter figures(status);
    report(figures);
    nlohmann::json& icecast = status["icecast"];
    icecast["url"] = where_;  // no credentials: they have keys of their own
    if (!sender_) {
        icecast["state"] = "off";
        return;
    }
    const IcecastSender::Snapshot s = sender_->snapshot();
    switch (s.state) {
        case IcecastSender::State::up:
            icecast["state"] = "up";
            break;
        case IcecastSender::State::connecting:
            icecast["state"] = "connecting";
            break;
        case IcecastSender::State::down:
            icecast["state"] = "down";
            break;
    }
    if (s.state != IcecastSender::State::up && !s.problem.empty()) icecast["problem"] = s.problem;
}

}  // namespace clubvoice
