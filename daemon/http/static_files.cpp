#include "static_files.hpp"

#include <array>
#include <utility>

namespace clubvoice {

std::optional<std::filesystem::path> resolve_static_file(const std::filesystem::path& root,
                                                         std::string_view request_path) {
    namespace fs = std::filesystem;
    if (request_path.empty() || request_path.front() != '/') return std::nullopt;
    if (request_path.find('\0') != std::string_view::npos ||
        request_path.find('\\') != std::string_view::npos) {
        return std::nullopt;
    }
    fs::path relative = fs::path(request_path.substr(1)).lexically_normal();
    for (const auto& part : relative) {
        if (part == "..") return std::nullopt;
    }
    std::error_code ec;
    fs::path canonical_root = fs::canonical(root, ec);
    if (ec) return std::nullopt;
    fs::path candidate = fs::canonical(canonical_root / relative, ec);
    if (ec) return std::nullopt;
    if (fs::is_directory(candidate, ec)) {
        // The index may itself be a symlink: resolve it before the root check.
        candidate = fs::canonical(candidate / "index.html", ec);
        if (ec) return std::nullopt;
    }
    // canonical() resolved symlinks: the result must still lie inside the root.
    auto [root_end, unused] = std::mismatch(canonical_root.begin(), canonical_root.end(),
                                            candidate.begin(), candidate.end());
    if (root_end != canonical_root.end()) return std::nullopt;
    if (!fs::is_regular_file(candidate, ec)) return std::nullopt;
    return candidate;
}

std::string_view content_type_for(const std::filesystem::path& file) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".wasm", "application/wasm"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".wav", "audio/wav"},
        {".ogg", "audio/ogg"},
        {".opus", "audio/ogg"},
    }};
    const std::string ext = file.extension().string();
    for (const auto& [suffix, type] : kTypes) {
        if (ext == suffix) return type;
    }
    return "application/octet-stream";
}

}  // namespace clubvoice
