#include "internal_errors.hpp"

#include "log.hpp"

#include <atomic>
#include <cstdio>

namespace clubvoice {
namespace {

std::atomic<std::uint64_t> g_internal_errors{0};

}  // namespace

void report_internal_error(std::string_view subject, std::string_view what) noexcept {
    g_internal_errors.fetch_add(1, std::memory_order_relaxed);
    try {
        log::warning("internal error in {}: {}", subject, what);
    } catch (...) {
        // Formatting failed (out of memory): the counter still tells.
        static_cast<void>(std::fputs("internal error (not logged)\n", stderr));
    }
}

void report_current_exception(std::string_view subject) noexcept {
    try {
        throw;
    } catch (const std::exception& e) {
        report_internal_error(subject, e.what());
    } catch (...) {
        report_internal_error(subject, "unknown exception");
    }
}

std::uint64_t internal_errors() noexcept {
    return g_internal_errors.load(std::memory_order_relaxed);
}

}  // namespace clubvoice
