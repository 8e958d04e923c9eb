// redis_script.h — Lua scripts sent by EVALSHA: the name Redis knows a
// script by, the error it answers when its script cache does not hold the
// script (after SCRIPT FLUSH, a restart or a failover), and a command that
// can turn itself into EVAL with the body for that one retry.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tenantmail {

// Lowercase hex SHA-1 of the script body.
std::string script_sha1(std::string_view body);

// True for Redis's "NOSCRIPT No matching script..." error text, bare or as
// RedisClient reports it ("Redis at HOST:PORT: NOSCRIPT ...").
bool is_noscript_error(std::string_view error);

// argv is EVALSHA SHA1 NUMKEYS KEYS... ARGS...; body is the script itself
// (static storage: the scripts are constants).
struct ScriptCommand {
    std::string_view body;
    std::vector<std::string> argv;

    // EVAL BODY NUMKEYS ...: the same call, for Redis without the script.
    void use_eval() {
        argv[0] = "EVAL";
        argv[1] = std::string(body);
    }
};

}  // namespace tenantmail
