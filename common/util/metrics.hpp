// One description of every figure the daemon exports: its Prometheus name,
// type, unit and help, and where it sits in the /status document. A module
// lists its figures once, as a table of Metric over a plain struct of its
// figures; the same table writes /status, /metrics and the reference that
// `clubvoiced --list-metrics` prints, so none of them can differ from the
// others. Thread: any (the writers belong to their caller).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clubvoice {

enum class MetricType { counter, gauge, histogram };
std::string_view to_string(MetricType type);

struct MetricInfo {
    std::string_view name;  // the Prometheus name, clubvoice_...
    MetricType type;
    std::string_view unit;         // "" for a count; "bool" is 1/0 (true/false in /status);
                                   // "info" is 1 with a label (the label's value in /status)
    std::string_view status_path;  // a JSON pointer into /status, e.g. "/server/upgrades"
    std::string_view help;
};

class MetricWriter {
  public:
    virtual ~MetricWriter() = default;
    virtual void add(const MetricInfo& info, double value) = 0;
    // An info metric: `name{label="value"} 1`.
    virtual void add_info(const MetricInfo& info, std::string_view label,
                          std::string_view value) = 0;
    // `cumulative` has one count per bound and a last one for +Inf; /status
    // gets the total count.
    virtual void add_histogram(const MetricInfo& info, std::span<const double> bounds,
                               std::span<const std::uint64_t> cumulative, double sum) = 0;
};

// One row of a module's table: the description and how to read the value
// from the module's figures.
template <typename Figures>
struct Metric {
    MetricInfo info;
    double (*value)(const Figures&);
};

// A count as a metric's value (exact up to 2^53).
inline double as_metric(std::uint64_t count) {
    return static_cast<double>(count);
}

template <typename Figures>
void write_metrics(std::span<const Metric<Figures>> table, const Figures& figures,
                   MetricWriter& out) {
    for (const Metric<Figures>& m : table) out.add(m.info, m.value(figures));
}

// Sets each figure at its path in the /status document.
class StatusWriter final : public MetricWriter {
  public:
    explicit StatusWriter(nlohmann::json& status) : status_(status) {}
    void add(const MetricInfo& info, double value) override;
    void add_info(const MetricInfo& info, std::string_view label, std::string_view value) override;
    void add_histogram(const MetricInfo& info, std::span<const double> bounds,
                       std::span<const std::uint64_t> cumulative, double sum) override;

  private:
    nlohmann::json& status_;
};

// The Prometheus text exposition format: HELP, TYPE and the samples.
class PrometheusWriter final : public MetricWriter {
  public:
    explicit PrometheusWriter(std::string& out) : out_(out) {}
    void add(const MetricInfo& info, double value) override;
    void add_info(const MetricInfo& info, std::string_view label, std::string_view value) override;
    void add_histogram(const MetricInfo& info, std::span<const double> bounds,
                       std::span<const std::uint64_t> cumulative, double sum) override;

  private:
    std::string& out_;
};

// Only the descriptions, for the reference listing.
class MetricList final : public MetricWriter {
  public:
    void add(const MetricInfo& info, double /*value*/) override { infos_.push_back(info); }
    void add_info(const MetricInfo& info, std::string_view /*label*/,
                  std::string_view /*value*/) override {
        infos_.push_back(info);
    }
    void add_histogram(const MetricInfo& info, std::span<const double> /*bounds*/,
                       std::span<const std::uint64_t> /*cumulative*/, double /*sum*/) override {
        infos_.push_back(info);
    }
    const std::vector<MetricInfo>& infos() const { return infos_; }

  private:
    std::vector<MetricInfo> infos_;
};

}  // namespace clubvoice
