// bounce_processor.h — one delivery to tenantmail-bounce, start to finish:
// authenticate the bounce address, take the tenant from its token, find the
// record of the token's message, count the report against the token
// (max_reports_per_token), parse the report, record the outcome of each
// recipient of that message it names (at most max_report_recipients; and
// suppress hard bounces and complaints), drop an automatic reply, or keep an
// unreadable report for inspection. Without the message's record nothing is
// recorded per recipient: the report is only logged. Mail to
// unsubscribe+TOKEN@ the bounce domain is an RFC 8058 unsubscribe instead
// (unsubscribe_delivery.h).
//
// Exit statuses, as Postfix's pipe(8) reads them (sysexits.h):
//   0  (EX_OK)       done: recorded, already recorded, nothing to record,
//                    kept as unparsed, or refused (forged, altered or
//                    expired bounce address; no tenant; too many header
//                    lines; over the per-token cap) with a log line —
//                    a retry could not change any of these;
//   75 (EX_TEMPFAIL) Postfix keeps the report and retries: Redis down, slow
//                    or answering with an error, or a problem the admin can
//                    fix (unreadable config, tenants file or bounce secret,
//                    wrong command line). Never 0 with a result lost.
// Logs one line per decision (tenant, queue id, recipient, outcome) to the
// mail facility; never the bounce secret.
#pragma once

#include <cstddef>
#include <string>

#include "common/options/bounce.h"

namespace tenantmail::bounce {

inline constexpr int kExitDone = 0;       // EX_OK
inline constexpr int kExitTempfail = 75;  // EX_TEMPFAIL

struct Delivery {
    std::string recipient;         // the envelope recipient Postfix passed
    std::string message;           // at most settings.message_size_limit bytes of it
    std::size_t size = 0;          // the whole message's size
    bool truncated() const { return size > message.size(); }
};

int process_bounce(const BounceSettings& settings, const Delivery& delivery);

// `--check-config`: tenants file and bounce secret as a run would load
// them. 0 when both load, 1 otherwise (with the reason on stderr).
int check_bounce_config(const BounceSettings& settings);

}  // namespace tenantmail::bounce
