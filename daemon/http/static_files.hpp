// Maps request paths to files under the web root, and files to content types.
// Pure apart from reading the file system. Thread: any.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace clubvoice {

// The regular file under `root` that a request path names, or nullopt when
// there is none or the path tries to leave the root ("..", symlinks out of
// it, NUL bytes). A path naming a directory maps to its index.html.
std::optional<std::filesystem::path> resolve_static_file(const std::filesystem::path& root,
                                                         std::string_view request_path);

// The Content-Type for a file name, from its extension.
std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace clubvoice
