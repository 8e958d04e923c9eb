#include "common/redis_script.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(RedisScript, NoscriptBareOrAsTheClientReportsIt) {
    EXPECT_TRUE(is_noscript_error("NOSCRIPT No matching script. Please use EVAL."));
    EXPECT_TRUE(is_noscript_error("Redis at 127.0.0.1:6379: NOSCRIPT No matching script. Please use EVAL."));
    EXPECT_FALSE(is_noscript_error("Redis at 127.0.0.1:6379: connection refused"));
    EXPECT_FALSE(is_noscript_error("ERR Error running script: NOSCRIPTED"));
    EXPECT_FALSE(is_noscript_error(""));
}

TEST(RedisScript, Sha1IsLowercaseHexOfTheBody) {
    EXPECT_EQ(script_sha1("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace tenantmail
