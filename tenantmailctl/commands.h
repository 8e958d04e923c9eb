// commands.h — the subcommands of tenantmailctl, each in its own file.
// A command gets the arguments after its name and returns the exit status:
// 0 success, 1 the operation was refused or failed, 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace tenantmail::ctl {

using Args = std::vector<std::string>;

int run_sign(const Args& args);
int run_keygen(const Args& args);
int run_check_config(const Args& args);
int run_bounce_decode(const Args& args);
int run_usage(const Args& args);
int run_suppression(const Args& args);
int run_pause(const Args& args);   // pause / resume a class by hand
int run_resume(const Args& args);
int run_messages(const Args& args);  // messages / outbox / message: the views of message records
int run_outbox(const Args& args);
int run_message(const Args& args);
int run_dns(const Args& args);     // dns records / dns check; exit statuses in exit_status.h
int run_rotate(const Args& args);
int run_retire(const Args& args);
int run_webhooks(const Args& args);  // webhooks dead list / replay
int run_smime(const Args& args);     // smime check

}  // namespace tenantmail::ctl
