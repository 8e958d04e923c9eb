// main.cpp — tenantmailctl: the admin's command line for tenantmail: check
// the configuration, manage tenants' DKIM keys (keygen, rotate, retire),
// publish and check their DNS records, look at messages, the outbox, rate
// usage, suppressions and dead webhook batches, and sign or decode by hand.
// Dispatches to one run_* function per subcommand (usage_text lists them);
// each prints its own errors on stderr and returns the exit status.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "common/daemon.h"
#include "tenantmailctl/commands.h"

namespace {

constexpr const char* usage_text =
    "usage: tenantmailctl COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  check-config [-c FILE]            validate tenantmail.conf, the tenants file and every key\n"
    "  keygen TENANT [--algorithm A] [--selector S] [--force]\n"
    "                                    create a tenant's DKIM key, print its DNS TXT record\n"
    "  sign -d DOMAIN -k SELECTOR:KEYFILE [-k ...] [--canon H/B]\n"
    "                                    DKIM-sign a message from stdin to stdout\n"
    "  bounce-decode ADDRESS [--secret FILE] [--max-age 14d]\n"
    "                                    authenticate a bounce address, print its queue id and time\n"
    "  usage TENANT [--json]             use and headroom of every limit and quota; pauses,\n"
    "                                    health rates, accepted-only permits held\n"
    "  pause TENANT [--class bulk|transactional] [--reason TEXT]\n"
    "                                    defer the tenant's mail of that class (default bulk)\n"
    "  resume TENANT [--class bulk|transactional]\n"
    "                                    let it through again; the bounce and complaint rates restart\n"
    "  suppression list|add|remove TENANT [ADDRESS] [--reason TEXT] [--json]\n"
    "                                    the tenant's suppression list in Redis\n"
    "  messages [--tenant T] [--status sent|failed|deferred] [--since 2d|DATE] [--json]\n"
    "                                    messages sent for tenants and what became of them\n"
    "  outbox [--tenant T] [--json] [--postfix-config DIR]\n"
    "                                    mail Postfix still holds, with each message's tenant\n"
    "  message QUEUE_ID [--json]         one message and each recipient's history\n"
    "  dns records TENANT [--format table|zone|json]\n"
    "                                    the DNS records the tenant and the platform must publish\n"
    "  dns check TENANT [--json] [--resolver HOST:PORT]\n"
    "                                    look the records up, one line per record, exit 0 if all OK\n"
    "  rotate TENANT [--selector S] [--activate|--cancel] [--ed25519]\n"
    "                                    new DKIM key under a new selector, active once published\n"
    "  retire TENANT [--ed25519]         delete the key a rotation replaced\n"
    "  webhooks dead list TENANT [--json]\n"
    "                                    event batches the webhook dispatcher gave up on\n"
    "  webhooks dead replay TENANT ENTRY_ID|--all\n"
    "                                    queue given-up events for delivery again\n"
    "  smime check TENANT [--ca FILE] [--json]\n"
    "                                    the tenant's S/MIME certificates: names, dates, key, chain\n"
    "  version                           print the version\n"
    "\n"
    "Run 'tenantmailctl COMMAND --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
    tenantmail::keep_secrets_out_of_core_dumps();
    using namespace tenantmail::ctl;
    if (argc < 2) {
        std::fputs(usage_text, stderr);
        return 2;
    }
    const std::string_view command = argv[1];
    const Args args(argv + 2, argv + argc);
    if (command == "sign") return run_sign(args);
    if (command == "keygen") return run_keygen(args);
    if (command == "check-config") return run_check_config(args);
    if (command == "bounce-decode") return run_bounce_decode(args);
    if (command == "usage") return run_usage(args);
    if (command == "suppression") return run_suppression(args);
    if (command == "pause") return run_pause(args);
    if (command == "resume") return run_resume(args);
    if (command == "messages") return run_messages(args);
    if (command == "outbox") return run_outbox(args);
    if (command == "message") return run_message(args);
    if (command == "dns") return run_dns(args);
    if (command == "rotate") return run_rotate(args);
    if (command == "retire") return run_retire(args);
    if (command == "webhooks") return run_webhooks(args);
    if (command == "smime") return run_smime(args);
    if (command == "version" || command == "--version") {
        std::puts("tenantmailctl " TM_VERSION);
        return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
        std::fputs(usage_text, stdout);
        return 0;
    }
    std::fprintf(stderr, "tenantmailctl: unknown command '%s'\n\n%s", argv[1], usage_text);
    return 2;
}
