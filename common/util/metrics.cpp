#include "metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

namespace clubvoice {
namespace {

// Counts stay integers in /status, as they were before the table.
bool is_count(const MetricInfo& info, double value) {
    const bool counted = info.unit.empty() || info.unit == "frames" || info.unit == "bytes";
    return counted && value == std::floor(value) && std::abs(value) < 9.0e15;
}

}  // namespace

std::string_view to_string(MetricType type) {
    switch (type) {
        case MetricType::counter:
            return "counter";
        case MetricType::gauge:
            return "gauge";
        case MetricType::histogram:
            return "histogram";
    }
    return "untyped";
}

void StatusWriter::add(const MetricInfo& info, double value) {
    nlohmann::json& at = status_[nlohmann::json::json_pointer(std::string(info.status_path))];
    if (std::isnan(value)) {
        at = nullptr;  // not measured yet
    } else if (info.unit == "bool") {
        at = value != 0.0;
    } else if (is_count(info, value)) {
        at = static_cast<std::int64_t>(value);
    } else {
        at = value;
    }
}

void StatusWriter::add_info(const MetricInfo& info, std::string_view /*label*/,
                            std::string_view value) {
    status_[nlohmann::json::json_pointer(std::string(info.status_path))] = value;
}

void StatusWriter::add_histogram(const MetricInfo& info, std::span<const double> /*bounds*/,
                                 std::span<const std::uint64_t> cumulative, double /*sum*/) {
    status_[nlohmann::json::json_pointer(std::string(info.status_path))] =
        cumulative.empty() ? 0 : cumulative.back();
}

void PrometheusWriter::add(const MetricInfo& info, double value) {
    auto out = std::back_inserter(out_);
    fmt::format_to(out, "# HELP {0} {1}\n# TYPE {0} {2}\n{0} ", info.name, info.help,
                   to_string(info.type));
    if (std::isnan(value)) {
        fmt::format_to(out, "NaN\n");  // the exposition format's spelling
    } else {
        fmt::format_to(out, "{}\n", value);
    }
}

void PrometheusWriter::add_info(const MetricInfo& info, std::string_view label,
                                std::string_view value) {
    // Label values escape backslash, quote and newline; ours never hold them.
    fmt::format_to(std::back_inserter(out_),
                   "# HELP {0} {1}\n# TYPE {0} gauge\n{0}{{{2}=\"{3}\"}} 1\n", info.name, info.help,
                   label, value);
}

void PrometheusWriter::add_histogram(const MetricInfo& info, std::span<const double> bounds,
                                     std::span<const std::uint64_t> cumulative, double sum) {
    auto out = std::back_inserter(out_);
    fmt::format_to(out, "# HELP {0} {1}\n# TYPE {0} histogram\n", info.name, info.help);
    for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
        fmt::format_to(out, "{}_bucket{{le=\"{}\"}} {}\n", info.name, bounds[i], cumulative[i]);
    }
    const std::uint64_t count = cumulative.empty() ? 0 : cumulative.back();
    fmt::format_to(out, "{0}_bucket{{le=\"+Inf\"}} {1}\n{0}_sum {2}\n{0}_count {1}\n", info.name,
                   count, sum);
}

}  // namespace clubvoice
