#include "static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace clubvoice {
namespace {

namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("clubvoice-static-" + std::to_string(::getpid()));
        fs::create_directories(base_ / "root/sub");
        std::ofstream(base_ / "root/index.html") << "x";
        std::ofstream(base_ / "root/app.js") << "x";
        std::ofstream(base_ / "root/sub/index.html") << "x";
        std::ofstream(base_ / "secret.txt") << "x";
        fs::create_symlink(base_ / "secret.txt", base_ / "root/link.txt");
        fs::create_directories(base_ / "root/trap");
        fs::create_symlink(base_ / "secret.txt", base_ / "root/trap/index.html");
    }
    void TearDown() override { fs::remove_all(base_); }
    fs::path root() const { return base_ / "root"; }
    fs::path base_;
};

TEST_F(StaticFiles, FindsFilesAndDirectoryIndexes) {
    EXPECT_EQ(resolve_static_file(root(), "/app.js"), fs::canonical(root() / "app.js"));
    EXPECT_EQ(resolve_static_file(root(), "/"), fs::canonical(root()) / "index.html");
    EXPECT_EQ(resolve_static_file(root(), "/sub/"), fs::canonical(root()) / "sub/index.html");
    EXPECT_EQ(resolve_static_file(root(), "/sub/../app.js"), fs::canonical(root() / "app.js"));
}

TEST_F(StaticFiles, RefusesEverythingOutsideTheRoot) {
    EXPECT_EQ(resolve_static_file(root(), "/../secret.txt"), std::nullopt);
    EXPECT_EQ(resolve_static_file(root(), "/sub/../../secret.txt"), std::nullopt);
    EXPECT_EQ(resolve_static_file(root(), "/link.txt"), std::nullopt);  // symlink out
    EXPECT_EQ(resolve_static_file(root(), "/trap/"), std::nullopt);     // index symlinked out
    EXPECT_EQ(resolve_static_file(root(), "/trap"), std::nullopt);
    EXPECT_EQ(resolve_static_file(root(), "app.js"), std::nullopt);  // not absolute
    EXPECT_EQ(resolve_static_file(root(), std::string_view("/app.js\0x", 9)), std::nullopt);
    EXPECT_EQ(resolve_static_file(root(), "/missing.js"), std::nullopt);
    EXPECT_EQ(resolve_static_file(root(), ""), std::nullopt);
    EXPECT_EQ(resolve_static_file(base_ / "no-such-root", "/app.js"), std::nullopt);
}

TEST(ContentType, ByExtension) {
    EXPECT_EQ(content_type_for("a/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("manifest.webmanifest"), "application/manifest+json");
    EXPECT_EQ(content_type_for("decoder.wasm"), "application/wasm");
    EXPECT_EQ(content_type_for("README"), "application/octet-stream");
}

}  // namespace
}  // namespace clubvoice
