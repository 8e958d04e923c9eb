// exit_status.h — exit statuses of the onboarding commands (dns, rotate,
// retire), distinct per cause so scripts and monitoring can tell them apart.
// 0-2 mean what commands.h says for every command.
#pragma once

namespace tenantmail::ctl {

enum ExitStatus : int {
    kExitOk = 0,
    kExitFailed = 1,          // records missing or wrong; operation refused
    kExitUsage = 2,           // bad command line
    kExitDnsUnreachable = 3,  // the resolver did not answer within the timeout
    kExitConfig = 4,          // unknown tenant, unreadable tenants file, [dns] options missing
    kExitKey = 5,             // a key file cannot be read or is not a usable key
};

}  // namespace tenantmail::ctl
