// smtp_reply.h — a refusal as the milter hands it to the MTA
// (smfi_setreply): reply code, enhanced status code, text.
#pragma once

#include <string>

namespace tenantmail::milter {

struct SmtpReply {
    std::string rcode;  // "550"
    std::string xcode;  // "5.7.1"
    std::string text;
};

}  // namespace tenantmail::milter
