// Lines of the Prometheus text exposition format. Thread: any.
#pragma once

#include <string>
#include <string_view>

namespace clubvoice {

enum class MetricType { counter, gauge };

// Appends "# HELP", "# TYPE" and the sample line for one unlabelled metric.
// Counter names end in _total by convention; the caller names them.
void append_metric(std::string& out, std::string_view name, MetricType type, std::string_view help,
                   double value);

}  // namespace clubvoice
