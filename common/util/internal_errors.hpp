// Exceptions caught where C code calls ours. Unwinding through libwebsockets'
// or libuv's frames is undefined behaviour, so every entry from C catches
// std::exception, closes only what the error concerns (a session, usually),
// and reports it here: one warning line naming the subject, and a counter
// (`clubvoice_internal_errors_total`) that should stay at zero. Thread: any.
#pragma once

#include <cstdint>
#include <exception>
#include <string_view>

namespace clubvoice {

// Logs "internal error in SUBJECT: WHAT" at warning and counts it. Never throws.
void report_internal_error(std::string_view subject, std::string_view what) noexcept;
// Reports the exception being handled (call inside a catch block).
void report_current_exception(std::string_view subject) noexcept;
std::uint64_t internal_errors() noexcept;

// Runs fn() for a C caller: an exception is reported and swallowed.
template <typename Fn>
void run_guarded(std::string_view subject, Fn&& fn) noexcept {
    try {
        fn();
    } catch (...) {
        report_current_exception(subject);
    }
}

}  // namespace clubvoice
