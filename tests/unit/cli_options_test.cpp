#include "cli_options.hpp"
#include "version.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace clubvoice {
namespace {

CliOptions parse(std::initializer_list<std::string> args) {
    std::vector<std::string> storage{"clubvoiced"};
    storage.insert(storage.end(), args);
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    return parse_cli(static_cast<int>(storage.size()), argv.data());
}

TEST(CliOptions, Defaults) {
    CliOptions o = parse({});
    EXPECT_EQ(o.config_path, kDefaultConfigPath);
    EXPECT_EQ(o.verbosity, 0);
    EXPECT_FALSE(o.check_config || o.version || o.help);
}

TEST(CliOptions, EveryOption) {
    CliOptions o = parse({"-c", "/tmp/a.yaml", "-vv", "--check-config"});
    EXPECT_EQ(o.config_path, "/tmp/a.yaml");
    EXPECT_EQ(o.verbosity, 2);
    EXPECT_TRUE(o.check_config);
    EXPECT_EQ(parse({"--config=/x.yaml"}).config_path, "/x.yaml");
    EXPECT_TRUE(parse({"--version"}).version);
    EXPECT_TRUE(parse({"--help"}).help);
    EXPECT_TRUE(parse({"-h"}).help);
}

TEST(CliOptions, Mistakes) {
    EXPECT_THROW(parse({"--bogus"}), UsageError);
    EXPECT_THROW(parse({"-c"}), UsageError);
    EXPECT_THROW(parse({"extra"}), UsageError);
}

}  // namespace
}  // namespace clubvoice
