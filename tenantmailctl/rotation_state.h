// rotation_state.h — where a key rotation stands, kept as comment lines in
// the tenant's own section of tenants.conf, e.g.
//   # tenantmailctl-rotation: pending rsa tm20250114 2025-01-14 /etc/tenantmail/keys/acme.tm20250114.pem
//   # tenantmailctl-rotation: retiring rsa mailtcex 2025-01-20 /etc/tenantmail/keys/acme.mailtcex.pem
// Comments, because the daemons must not care (they sign with selector/key
// only) and because one file means one atomic rename changes the active key
// and the rotation state together. Fields: state, slot (rsa: selector/key;
// ed25519: ed25519_selector/ed25519_key), selector, date (created for
// pending, activated for retiring), key path (the rest of the line). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail::ctl {

inline constexpr std::string_view kRotationPrefix = "# tenantmailctl-rotation:";

enum class KeySlot { rsa, ed25519 };
std::string_view to_string(KeySlot slot);
std::string_view selector_field(KeySlot slot);  // "selector" or "ed25519_selector"
std::string_view key_field(KeySlot slot);       // "key" or "ed25519_key"

struct RotationMark {
    enum class State { pending, retiring };
    State state = State::pending;
    KeySlot slot = KeySlot::rsa;
    std::string selector;
    std::string date;  // YYYY-MM-DD
    std::string key_path;
};

std::string format_rotation_mark(const RotationMark& mark);
std::optional<RotationMark> parse_rotation_mark(std::string_view line);

// The marks of one tenant; Error names the line of a mark that cannot be read.
Result<std::vector<RotationMark>> rotation_marks(std::string_view tenants_text, std::string_view tenant,
                                                 std::string_view filename);
// The text with the tenant's marks replaced by marks.
Result<std::string> with_rotation_marks(std::string_view tenants_text, std::string_view tenant,
                                        const std::vector<RotationMark>& marks);

// A selector tenantmailctl will create: DNS labels of letters, digits and
// inner '-', dot-separated (it also becomes part of a key file name).
bool valid_new_selector(std::string_view selector);

const RotationMark* find_mark(const std::vector<RotationMark>& marks, RotationMark::State state, KeySlot slot);

}  // namespace tenantmail::ctl
