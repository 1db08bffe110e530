// The recorder's figures for /status ("record") and /metrics: one table,
// both places.
#include "recorder.hpp"

#include <array>

namespace clubvoice {
namespace {

using F = Recorder::Figures;

constexpr auto kMetrics = std::to_array<Metric<F>>({
    {{"clubvoice_record_enabled", MetricType::gauge, "bool", "/record/enabled",
      "Whether record.enabled is on."},
     [](const F& f) { return f.enabled ? 1.0 : 0.0; }},
    {{"clubvoice_record_up", MetricType::gauge, "bool", "/record/up",
      "Whether recording works (false while enabled and failing, or off)."},
     [](const F& f) { return f.up ? 1.0 : 0.0; }},
    {{"clubvoice_record_files_total", MetricType::counter, "", "/record/files",
      "Recording files begun."},
     [](const F& f) { return as_metric(f.files); }},
    {{"clubvoice_record_pages_total", MetricType::counter, "", "/record/pages",
      "Ogg pages handed to the recording writer (headers included)."},
     [](const F& f) { return as_metric(f.pages); }},
    {{"clubvoice_record_bytes_total", MetricType::counter, "bytes", "/record/bytes",
      "Bytes written to recording files."},
     [](const F& f) { return as_metric(f.bytes); }},
    {{"clubvoice_record_pages_dropped_total", MetricType::counter, "", "/record/dropped",
      "Ogg pages not recorded because the writer's queue was full (a stalled disk)."},
     [](const F& f) { return as_metric(f.dropped); }},
    {{"clubvoice_record_errors_total", MetricType::counter, "", "/record/errors",
      "Failed opens, writes and closes of recording files (each stops recording until a retry)."},
     [](const F& f) { return as_metric(f.errors); }},
    {{"clubvoice_record_files_deleted_total", MetricType::counter, "", "/record/deleted",
      "Recordings deleted for being older than record.keep_days."},
     [](const F& f) { return as_metric(f.deleted); }},
});

std::string_view to_string(Recorder::State state) {
    switch (state) {
        case Recorder::State::off:
            return "off";
        case Recorder::State::recording:
            return "recording";
        case Recorder::State::down:
            return "down";
    }
    return "?";
}

}  // namespace

void Recorder::report(MetricWriter& out) const {
    write_metrics<Figures>(kMetrics, figures(), out);
}

void Recorder::describe_metrics(MetricWriter& out) {
    write_metrics<Figures>(kMetrics, Figures{}, out);
}

void Recorder::report_status(nlohmann::json& status) const {
    StatusWriter figures(status);
    report(figures);
    nlohmann::json& record = status["record"];
    record["state"] = to_string(state_);
    record["file"] = state_ == State::off ? std::string() : file_name_;
    if (state_ == State::down) record["problem"] = problem_;
}

}  // namespace clubvoice
