// libFuzzer target for the HTTP request handling the daemon does itself (the
// rest is libwebsockets'): mapping a request path to a file under the web
// root, the CORS Origin allow-list and the handshake's Origin check, and the
// shape of /stream.opus's query.
//
// Input: the whole input is a request path; split at '\n', its first line
// is an Origin and the other lines are the allow-list; split at '&', it is
// the query's arguments as libwebsockets hands them over.
#include "cors.hpp"
#include "static_files.hpp"
#include "stream_query.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace clubvoice;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "http_fuzz: invariant broken: %s\n", what);
    std::abort();
}

void write_file(const fs::path& path) {
    std::ofstream(path) << path.filename().string() << '\n';
}

// A small web root with the cases that matter: nested directories, a
// directory without an index, symlinks inside and out of the root, and a
// directory whose index.html is a symlink out of it. Created once in a
// temporary directory, removed when the process exits.
struct WebRoot {
    fs::path base;
    fs::path root;
    ~WebRoot() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
};

WebRoot make_web_root() {
    std::string dir = (fs::temp_directory_path() / "http_fuzz.XXXXXX").string();
    require(mkdtemp(dir.data()) != nullptr, "mkdtemp");
    const fs::path base(dir);
    const fs::path root = base / "root";
    fs::create_directories(root / "sub" / "deeper");
    fs::create_directories(root / "empty");
    fs::create_directories(root / "trap");
    write_file(base / "secret.txt");
    write_file(root / "index.html");
    write_file(root / "app.js");
    write_file(root / "sub" / "index.html");
    write_file(root / "sub" / "style.css");
    write_file(root / "sub" / "deeper" / "a b.txt");
    fs::create_symlink("app.js", root / "link-in.js");
    fs::create_symlink("../secret.txt", root / "link-out.txt");
    fs::create_directory_symlink("..", root / "dir-out");
    fs::create_symlink("../../secret.txt", root / "trap" / "index.html");
    return {base, fs::canonical(root)};
}

bool inside(const fs::path& root, const fs::path& file) {
    const auto [root_end, unused] =
        std::mismatch(root.begin(), root.end(), file.begin(), file.end());
    return root_end == root.end();
}

void check_static(const fs::path& root, std::string_view request_path) {
    const std::optional<fs::path> file = resolve_static_file(root, request_path);
    if (!file) return;
    std::error_code ec;
    require(fs::is_regular_file(*file, ec), "the result is a regular file");
    const fs::path real = fs::canonical(*file, ec);
    require(!ec && inside(root, real), "the result lies inside the web root");
    require(!content_type_for(*file).empty(), "every file has a content type");
}

void check_cors(std::string_view input) {
    std::vector<std::string> lines;
    for (std::size_t at = 0;;) {
        const std::size_t end = input.find('\n', at);
        lines.emplace_back(input.substr(at, end - at));
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    const std::string origin = lines.front();
    const std::span<const std::string> allowed(lines.begin() + 1, lines.end());
    const bool expected = std::find(allowed.begin(), allowed.end(), "*") != allowed.end() ||
                          std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
    require(origin_allowed(allowed, origin) == expected, "an origin is allowed when listed");
    // The second line doubles as the Host header of a handshake.
    const std::string host = lines.size() > 1 ? lines[1] : std::string();
    const bool handshake = handshake_origin_allowed(allowed, origin, host);
    require(!expected || handshake, "a listed origin may open a session");
    require(handshake_origin_allowed(allowed, std::nullopt, host), "no Origin: not a browser");
    if (!expected && handshake) {
        auto lower = [](std::string text) {
            for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return text;
        };
        require(!host.empty() && lower(origin).ends_with("://" + lower(host)),
                "an unlisted origin is the server's own");
    }
}

void check_stream_query_shape(std::string_view input) {
    std::vector<std::string> args;
    for (std::size_t at = 0;;) {
        const std::size_t end = input.find('&', at);
        args.emplace_back(input.substr(at, end - at));
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    const StreamQuery query = check_stream_query(args);
    const auto token_args = std::count_if(args.begin(), args.end(), [](const std::string& a) {
        return a.starts_with("token=") || a == "token";
    });
    if (!query.ok()) {
        require(!query.token, "a refused query gives no token");
        return;
    }
    require(args.size() <= kMaxStreamQueryArgs, "at most kMaxStreamQueryArgs arguments");
    require(token_args <= 1, "at most one token argument");
    if (!query.token) {
        require(token_args == 0, "a token argument is taken or refused");
        return;
    }
    const std::string& token = *query.token;
    require(!token.empty() && token.size() <= kMaxStreamTokenBytes, "a token of 1-256 bytes");
    require(is_valid_utf8(token), "a token is valid UTF-8");
    require(std::none_of(token.begin(), token.end(),
                         [](char c) {
                             const auto byte = static_cast<unsigned char>(c);
                             return byte < 0x20 || byte == 0x7f;
                         }),
            "a token has no control characters");
    require(std::find(args.begin(), args.end(), "token=" + token) != args.end(),
            "the token is the argument's value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const WebRoot web = make_web_root();
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_static(web.root, input);
    check_cors(input);
    check_stream_query_shape(input);
    return 0;
}
