#include "prometheus.hpp"

#include <fmt/format.h>

namespace clubvoice {

void append_metric(std::string& out, std::string_view name, MetricType type, std::string_view help,
                   double value) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name,
                   type == MetricType::counter ? "counter" : "gauge", name, value);
}

}  // namespace clubvoice
