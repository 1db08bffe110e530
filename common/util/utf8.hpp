// UTF-8 checks, and the cleaning every piece of text from a client goes
// through before anyone else sees it. Thread: any (pure).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace clubvoice {

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code
// points past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Text a client asked to show to others (a name), made safe: invalid UTF-8
// is refused (the string says why); control characters (C0, DEL, C1) and
// line or paragraph separators are removed; leading and trailing spaces go;
// the rest is cut to at most `max_bytes`, at a character boundary.
struct CleanedText {
    std::string text;     // the cleaned text, when ok()
    std::string problem;  // why it was refused; empty when it was not
    bool ok() const { return problem.empty(); }
};
CleanedText clean_client_text(std::string_view text, std::size_t max_bytes);

}  // namespace clubvoice
