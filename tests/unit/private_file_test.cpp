#include "common/private_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tenantmail {
namespace {

class PrivateFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/tm-private-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& content, mode_t mode) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), mode);
        return path;
    }

    std::string dir_;
};

TEST_F(PrivateFileTest, ReadsOwnerOnlyFile) {
    const auto content = read_private_file(write("s", "secret", 0600), "secret");
    ASSERT_TRUE(content.ok()) << content.error();
    EXPECT_EQ(*content, "secret");
    EXPECT_TRUE(read_private_file(write("r", "x", 0400), "secret").ok());
}

TEST_F(PrivateFileTest, RefusesGroupOrOtherAccessNamingFileAndMode) {
    for (mode_t mode : {0640, 0604, 0620, 0602, 0644}) {
        const std::string path = write("k", "x", mode);
        const auto content = read_private_file(path, "key");
        ASSERT_FALSE(content.ok());
        EXPECT_NE(content.error().find(path), std::string::npos);
        char expected[8];
        std::snprintf(expected, sizeof expected, "%04o", static_cast<unsigned>(mode));
        EXPECT_NE(content.error().find(expected), std::string::npos) << content.error();
    }
}

TEST_F(PrivateFileTest, RefusesDirectoriesMissingAndOversizedFiles) {
    EXPECT_FALSE(read_private_file(dir_, "key").ok());
    const auto missing = read_private_file(dir_ + "/none", "key");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().find("No such file"), std::string::npos);
    EXPECT_NE(missing.error().find(dir_ + "/none"), std::string::npos);
    EXPECT_FALSE(read_private_file(write("big", std::string(100, 'x'), 0600), "key", PrivateFileRules{99, true}).ok());
    EXPECT_TRUE(read_private_file(write("exec", "x", 0710), "key").ok());  // execute bits leak nothing
}

// Root may chown; elsewhere the test cannot make a file of another owner.
TEST_F(PrivateFileTest, RefusesFilesOwnedByAnotherAccountNamingTheOwner) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
    const std::string path = write("k", "secret", 0600);
    ASSERT_EQ(::chown(path.c_str(), 65534, static_cast<gid_t>(-1)), 0);
    const auto refused = read_private_file(path, "key");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().find("key " + path + " is owned by "), std::string::npos) << refused.error();
    EXPECT_FALSE(is_trusted_private_file_owner(65534));

    ASSERT_EQ(::chown(path.c_str(), 0, static_cast<gid_t>(-1)), 0);
    EXPECT_TRUE(read_private_file(path, "key").ok());
}

TEST_F(PrivateFileTest, TrustsRootAndTheEffectiveUser) {
    EXPECT_TRUE(is_trusted_private_file_owner(0));
    EXPECT_TRUE(is_trusted_private_file_owner(::geteuid()));
}

}  // namespace
}  // namespace tenantmail
