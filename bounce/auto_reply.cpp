// auto_reply.cpp — recognising automatic replies (see auto_reply.h).
#include "bounce/auto_reply.h"

#include <string>

#include "bounce/field_block.h"
#include "common/text.h"

namespace tenantmail::bounce {
namespace {

bool value_starts_with(const Field& field, std::string_view word) {
    const std::string value = to_lower(trim(field.value));
    return value.rfind(word, 0) == 0;
}

bool looks_like_bounce(const FieldGroup& header) {
    if (header.find("X-Failed-Recipients") != nullptr) return true;
    const Field* from = header.find("From");
    if (from == nullptr) return false;
    const std::string sender = to_lower(from->value);
    return sender.find("mailer-daemon") != std::string::npos || sender.find("postmaster") != std::string::npos;
}

}  // namespace

bool is_auto_reply(std::string_view header_block) {
    const FieldGroups groups = parse_field_groups(header_block);
    if (groups.groups.empty()) return false;
    const FieldGroup& header = groups.groups.front();
    if (looks_like_bounce(header)) return false;
    const Field* submitted = header.find("Auto-Submitted");
    if (submitted != nullptr && value_starts_with(*submitted, "auto-replied")) return true;
    const Field* precedence = header.find("Precedence");
    if (precedence != nullptr && value_starts_with(*precedence, "auto_reply")) return true;
    return header.find("X-Autoreply") != nullptr || header.find("X-Autorespond") != nullptr;
}

}  // namespace tenantmail::bounce
