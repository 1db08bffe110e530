// The HTTP stream's figures for /status ("stream") and /metrics: one table,
// both places.
#include "http_stream.hpp"

#include <array>

namespace clubvoice {
namespace {

using F = HttpStream::Figures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_stream_listeners", MetricType::gauge, "", "/stream/listeners",
      "Readers of /stream.opus now."},
     [](const F& f) { return static_cast<double>(f.listeners); }},
    {{"clubvoice_stream_listeners_opened_total", MetricType::counter, "", "/stream/opened",
      "Responses of /stream.opus begun."},
     [](const F& f) { return as_metric(f.opened); }},
    {{"clubvoice_stream_pages_total", MetricType::counter, "", "/stream/pages",
      "Ogg audio pages built for /stream.opus (once each, shared by every reader)."},
     [](const F& f) { return as_metric(f.pages); }},
    {{"clubvoice_stream_bytes_total", MetricType::counter, "bytes", "/stream/bytes",
      "Bytes of Ogg pages written to /stream.opus readers."},
     [](const F& f) { return as_metric(f.bytes); }},
    {{"clubvoice_stream_pages_dropped_total", MetricType::counter, "", "/stream/pages_dropped",
      "Pages skipped for /stream.opus readers that fell behind."},
     [](const F& f) { return as_metric(f.pages_dropped); }},
    {{"clubvoice_stream_readers_cut_total", MetricType::counter, "", "/stream/readers_cut",
      "/stream.opus readers closed for staying behind too long."},
     [](const F& f) { return as_metric(f.readers_cut); }},
    {{"clubvoice_stream_invalid_queries_total", MetricType::counter, "", "/stream/invalid_queries",
      "Requests for /stream.opus refused (400) for a query of a wrong shape."},
     [](const F& f) { return as_metric(f.invalid_queries); }},
    {{"clubvoice_stream_token_refused_total", MetricType::counter, "", "/stream/token_refused",
      "Requests for /stream.opus refused (401) for a missing or wrong token."},
     [](const F& f) { return as_metric(f.token_refused); }},
    {{"clubvoice_stream_limit_refused_total", MetricType::counter, "", "/stream/limit_refused",
      "Requests for /stream.opus refused (429, 503) by server.max_clients or the per-address "
      "limits."},
     [](const F& f) { return as_metric(f.limit_refused); }},
    {{"clubvoice_stream_revoked_total", MetricType::counter, "", "/stream/revoked",
      "/stream.opus readers closed because a reload withdrew their access."},
     [](const F& f) { return as_metric(f.revoked); }},
    {{"clubvoice_stream_restarts_total", MetricType::counter, "", "/stream/restarts",
      "New Ogg logical streams begun because the channel count changed (readers are closed)."},
     [](const F& f) { return as_metric(f.restarts); }},
});

}  // namespace

void HttpStream::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void HttpStream::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

}  // namespace clubvoice
