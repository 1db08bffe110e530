// The recorder's writer thread (daemon/record/record_writer.hpp): files in a
// real directory, retention, failures reported through its counters, and a
// queue that refuses rather than grows.
#include "record_writer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace clubvoice {
namespace {

namespace fs = std::filesystem;

class RecordWriterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "record-writer-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override { fs::remove_all(root_); }

    static std::string contents(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream out;
        out << in.rdbuf();
        return out.str();
    }

    static bool wait_for(const std::function<bool()>& done) {
        for (int i = 0; i < 500 && !done(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return done();
    }

    fs::path root_;
};

TEST_F(RecordWriterTest, WritesFilesInOrderAndMakesTheDirectory) {
    const fs::path dir = root_ / "a" / "b";
    {
        RecordWriter writer(1 << 20);
        writer.open(1, dir.string(), "20261130T031500Z.opus", 0);
        EXPECT_TRUE(writer.write(1, "first "));
        EXPECT_TRUE(writer.write(1, "file"));
        writer.close(1);
        writer.open(2, dir.string(), "20261130T031502Z.opus", 0);
        EXPECT_TRUE(writer.write(2, "second"));
    }  // the destructor writes what is queued and closes
    EXPECT_EQ(contents(dir / "20261130T031500Z.opus"), "first file");
    EXPECT_EQ(contents(dir / "20261130T031502Z.opus"), "second");
    struct stat info {};
    ASSERT_EQ(stat(dir.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777 & ~0750, 0U) << "no more than rwxr-x---";
}

TEST_F(RecordWriterTest, DeletesOnlyExpiredRecordings) {
    for (const char* name : {"20200101T000000Z.opus", "notes.opus", "20200101T000000Z.txt"}) {
        std::ofstream(root_ / name) << "x";
    }
    fs::create_symlink("/dev/null", root_ / "20200102T000000Z.opus");
    RecordWriter writer(1 << 20);
    writer.open(1, root_.string(), "20261130T031500Z.opus", 30);
    ASSERT_TRUE(wait_for([&] { return writer.files_deleted() == 1; }));
    EXPECT_FALSE(fs::exists(root_ / "20200101T000000Z.opus"));
    EXPECT_TRUE(fs::exists(root_ / "notes.opus"));
    EXPECT_TRUE(fs::exists(root_ / "20200101T000000Z.txt"));
    EXPECT_TRUE(fs::is_symlink(root_ / "20200102T000000Z.opus")) << "never a symlink";
}

TEST_F(RecordWriterTest, AFullDiskIsAFailureAndLaterWritesOfThatFileAreDropped) {
    fs::create_symlink("/dev/full", root_ / "20261130T031500Z.opus");
    RecordWriter writer(1 << 20);
    writer.open(7, root_.string(), "20261130T031500Z.opus", 0);
    EXPECT_TRUE(writer.write(7, "pages"));
    ASSERT_TRUE(wait_for([&] { return writer.failures() == 1; }));
    EXPECT_EQ(writer.last_error(),
              "write " + (root_ / "20261130T031500Z.opus").string() + ": No space left on device");
    EXPECT_EQ(writer.good_file(), 0U);
    EXPECT_TRUE(writer.write(7, "more pages"));  // dropped, not a second failure
    writer.open(8, root_.string(), "20261130T031501Z.opus", 0);
    EXPECT_TRUE(writer.write(8, "ok"));
    ASSERT_TRUE(wait_for([&] { return writer.good_file() == 8; }));
    EXPECT_EQ(writer.failures(), 1U);
    EXPECT_EQ(writer.bytes_written(), 2U);
}

TEST_F(RecordWriterTest, ADirectoryThatCannotBeMadeIsAFailure) {
    std::ofstream(root_ / "file") << "x";
    RecordWriter writer(1 << 20);
    writer.open(1, (root_ / "file" / "rec").string(), "20261130T031500Z.opus", 0);
    ASSERT_TRUE(wait_for([&] { return writer.failures() == 1; }));
    EXPECT_NE(writer.last_error().find("Not a directory"), std::string::npos)
        << writer.last_error();
}

TEST_F(RecordWriterTest, AFullQueueRefusesInsteadOfGrowing) {
    RecordWriter writer(10);
    writer.open(1, root_.string(), "20261130T031500Z.opus", 0);
    EXPECT_FALSE(writer.write(1, std::string(11, 'x'))) << "more than the bound at once";
    EXPECT_TRUE(writer.write(1, std::string(10, 'x')));
}

}  // namespace
}  // namespace clubvoice
