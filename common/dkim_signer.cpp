// dkim_signer.cpp — header selection, the From check, DKIM-Signature
// assembly and folding, and the signature itself (RFC 6376 3.5, 3.7, 5).
// The field is built once up to "b=", that exact text is what gets signed,
// and the signature is appended to it: what is hashed and what is sent cannot
// drift apart, whatever the folding does.
#include "common/dkim_signer.h"

#include <algorithm>
#include <ctime>

#include "common/base64.h"
#include "common/mailbox.h"
#include "common/text.h"

namespace tenantmail {
namespace {

enum class Coverage {
    oversign_always,   // listed once more than present, even when absent
    oversign_present,  // when present: each instance, plus one more
    sign_present,      // when present: each instance
};

struct SignRule {
    std::string_view name;  // lowercase, as written in h=
    Coverage coverage;
};

// The header comment in dkim_signer.h documents this table; keep them equal.
constexpr SignRule sign_rules[] = {
    {"from", Coverage::oversign_always},
    {"reply-to", Coverage::oversign_present},
    {"subject", Coverage::oversign_present},
    {"date", Coverage::oversign_present},
    {"to", Coverage::oversign_present},
    {"cc", Coverage::oversign_present},
    {"message-id", Coverage::oversign_present},
    {"mime-version", Coverage::oversign_present},
    {"content-type", Coverage::oversign_present},
    {"content-transfer-encoding", Coverage::oversign_present},
    {"in-reply-to", Coverage::oversign_present},
    {"references", Coverage::oversign_present},
    // Over-signed so nobody on the way can add a second unsubscribe target
    // or Feedback-ID under our signature.
    {"list-unsubscribe", Coverage::oversign_present},
    {"list-unsubscribe-post", Coverage::oversign_present},
    {"feedback-id", Coverage::oversign_present},
    {"sender", Coverage::sign_present},
    {"list-id", Coverage::sign_present},
    {"content-id", Coverage::sign_present},
    {"content-description", Coverage::sign_present},
};

constexpr std::size_t max_line = 78;  // RFC 5322 2.1.1, without the CRLF

std::size_t count_named(const std::vector<HeaderField>& headers, std::string_view name) {
    return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(),
                                                  [&](const HeaderField& f) { return iequals(f.name(), name); }));
}

// Exactly one From with exactly one address: DMARC aligns on that address,
// and a receiver may pick a different one of several than we checked.
Result<void> check_from(const std::vector<HeaderField>& headers) {
    const HeaderField* from = nullptr;
    std::size_t count = 0;
    for (const HeaderField& field : headers) {
        if (iequals(field.name(), "from")) {
            from = &field;
            ++count;
        }
    }
    if (count == 0) return make_error("message has no From header field; refusing to sign");
    if (count > 1) {
        return make_error("message has " + std::to_string(count) +
                          " From header fields (exactly one is allowed); refusing to sign");
    }
    auto mailbox = parse_single_mailbox(from->value());
    if (!mailbox) return make_error("From header field is not a single address: " + mailbox.error());
    return {};
}

// d= and s= go into the tag list verbatim: accept DNS name characters only,
// so a bad configuration value cannot inject tags or break the field.
bool is_tag_safe_name(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_';
    });
}

Result<void> check_options(const SignOptions& options) {
    if (!is_tag_safe_name(options.domain)) {
        return make_error("signing domain '" + options.domain + "' is not a valid domain name");
    }
    if (options.keys.empty()) return make_error("no signing key configured for " + options.domain);
    for (const SignerKey& key : options.keys) {
        if (key.key == nullptr) return make_error("signing key for selector '" + key.selector + "' is missing");
        if (!is_tag_safe_name(key.selector)) {
            return make_error("selector '" + key.selector + "' is not a valid DNS label sequence");
        }
    }
    if (options.timestamp < 0) return make_error("signature timestamp is negative");
    if (options.expire_after && *options.expire_after <= 0) {
        return make_error("signature expiry must be a positive number of seconds after t=");
    }
    return {};
}

// Builds a header field out of words, starting a new line (CRLF TAB) when the
// next word would pass max_line. The tab counts as one character.
class FieldFolder {
public:
    explicit FieldFolder(std::string_view name) : text_(name) {
        text_ += ':';
        line_length_ = text_.size();
    }

    // An unbreakable word, preceded by a space when it stays on the line;
    // keep_room more characters must fit after it on the same line.
    void word(std::string_view w, bool space = true, std::size_t keep_room = 0) {
        const std::size_t needed = w.size() + keep_room + (space ? 1 : 0);
        if (line_length_ + needed > max_line && line_length_ > 1) {
            new_line();
        } else if (space) {
            text_ += ' ';
            ++line_length_;
        }
        text_ += w;
        line_length_ += w.size();
    }

    // Base64 text, which RFC 6376 3.5 lets FWS break anywhere (the b= value):
    // fills each line to max_line.
    void fill(std::string_view text) {
        while (!text.empty()) {
            const std::size_t n = std::min(max_line > line_length_ ? max_line - line_length_ : 0, text.size());
            text_ += text.substr(0, n);
            line_length_ += n;
            text.remove_prefix(n);
            if (!text.empty()) new_line();
        }
    }

    const std::string& text() const { return text_; }

private:
    void new_line() {
        text_ += "\r\n\t";
        line_length_ = 1;
    }

    std::string text_;
    std::size_t line_length_ = 0;
};

// Appends the canonical forms of the fields h= names, bottom-up per name.
void append_signed_headers(Canon canon, const std::vector<HeaderField>& headers,
                           const std::vector<std::string>& signed_names, std::string& out) {
    std::vector<bool> used(headers.size(), false);
    for (const std::string& name : signed_names) {
        for (std::size_t i = headers.size(); i-- > 0;) {
            if (!used[i] && iequals(headers[i].name(), name)) {
                used[i] = true;
                append_canonical_header(canon, headers[i], out);
                break;
            }
        }
        // No unused instance left: the name contributes nothing (RFC 6376
        // 5.4.2), which is how an over-signed name refuses additions.
    }
}

// The canonical unsigned DKIM-Signature, without the CRLF canonicalisation adds.
Result<void> append_signature_field(Canon canon, std::string_view unsigned_field, std::string& out) {
    auto field = parse_header_field(unsigned_field);
    if (!field) return Error{"DKIM-Signature field: " + field.error()};
    append_canonical_header(canon, *field, out);
    out.resize(out.size() - 2);
    return {};
}

void add_header_list(FieldFolder& folder, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        const bool last = i + 1 == names.size();
        std::string token = (i == 0 ? "h=" : "") + names[i] + (last ? ";" : ":");
        folder.word(token, i == 0);  // h= breaks only after a colon
    }
}

}  // namespace

Result<std::vector<std::string>> choose_signed_headers(const std::vector<HeaderField>& headers) {
    if (auto from = check_from(headers); !from) return Error{from.error()};
    std::vector<std::string> names;
    for (const SignRule& rule : sign_rules) {
        std::size_t times = count_named(headers, rule.name);
        if (rule.coverage == Coverage::oversign_always || (rule.coverage == Coverage::oversign_present && times > 0)) {
            ++times;
        }
        names.insert(names.end(), times, std::string(rule.name));
    }
    return names;
}

Result<std::string> signing_input(Canon header_canon, const std::vector<HeaderField>& headers,
                                  const std::vector<std::string>& signed_names,
                                  std::string_view unsigned_signature_field) {
    std::string data;
    append_signed_headers(header_canon, headers, signed_names, data);
    if (auto ok = append_signature_field(header_canon, unsigned_signature_field, data); !ok) return Error{ok.error()};
    return data;
}

DkimSigner::DkimSigner(SignOptions options) : options_(std::move(options)), body_(options_.body_canon) {}

void DkimSigner::add_header(std::string_view raw_field) {
    if (finished_ || !header_error_.empty()) return;
    const HeaderLimits limits;
    if (headers_.size() >= limits.max_fields) {
        header_error_ = "message has more than " + std::to_string(limits.max_fields) + " header fields";
        return;
    }
    auto field = parse_header_field(raw_field, limits);
    if (!field) {
        header_error_ = "header field " + std::to_string(headers_.size() + 1) + ": " + field.error();
        return;
    }
    headers_.push_back(std::move(field).value());
}

void DkimSigner::add_header(HeaderField field) {
    if (finished_ || !header_error_.empty()) return;
    if (headers_.size() >= HeaderLimits{}.max_fields) {
        header_error_ = "message has more than " + std::to_string(HeaderLimits{}.max_fields) + " header fields";
        return;
    }
    headers_.push_back(std::move(field));
}

void DkimSigner::add_body(std::string_view chunk) {
    if (!finished_) body_.update(chunk);
}

namespace {

// h=: the policy's choice, or a published vector's list (still From-checked).
Result<std::vector<std::string>> names_to_sign(const SignOptions& options, const std::vector<HeaderField>& headers) {
    if (!options.header_list_override) return choose_signed_headers(headers);
    if (auto from = check_from(headers); !from) return Error{from.error()};
    const std::vector<std::string>& names = *options.header_list_override;
    // RFC 6376 5.4: From must be signed; without it this is not DKIM.
    if (std::none_of(names.begin(), names.end(), [](const std::string& n) { return iequals(n, "from"); })) {
        return make_error("header list override does not include From");
    }
    for (const std::string& name : names) {
        if (name.empty() || name.find_first_of(":; \t\r\n") != std::string::npos) {
            return make_error("header list override has an invalid name '" + name + "'");
        }
    }
    return names;
}

// What every signature of this message shares; the fields differ only in
// a=, s= and b=.
struct CommonTags {
    std::string canon;   // c= value
    std::string t_tag;   // "t=...;"
    std::string x_tag;   // "x=...;" or empty
    std::vector<std::string> names;
    std::string bh;
};

Result<CommonTags> common_tags(const SignOptions& options, std::vector<std::string> names, const std::string& digest) {
    const std::int64_t t =
        options.timestamp != 0 ? options.timestamp : static_cast<std::int64_t>(std::time(nullptr));
    CommonTags tags;
    tags.canon = std::string(canon_name(options.header_canon)) + "/" + std::string(canon_name(options.body_canon));
    tags.t_tag = "t=" + std::to_string(t) + ";";
    if (options.expire_after) {
        std::int64_t x = 0;
        if (__builtin_add_overflow(t, *options.expire_after, &x)) return make_error("signature expiry is out of range");
        tags.x_tag = "x=" + std::to_string(x) + ";";
    }
    tags.names = std::move(names);
    tags.bh = base64_encode(digest);
    return tags;
}

// One complete DKIM-Signature field: tags in a fixed order, folded, signed
// over signed_headers plus the field itself as it stands up to "b=".
Result<std::string> sign_field(const SignOptions& options, const SignerKey& signer, const CommonTags& tags,
                               const std::string& signed_headers) {
    FieldFolder folder("DKIM-Signature");
    folder.word("v=1;");
    folder.word("a=" + std::string(signer.key->dkim_algorithm()) + ";");
    folder.word("c=" + tags.canon + ";");
    folder.word("d=" + options.domain + ";");
    folder.word("s=" + signer.selector + ";");
    folder.word(tags.t_tag);
    if (!tags.x_tag.empty()) folder.word(tags.x_tag);
    add_header_list(folder, tags.names);
    folder.word("bh=" + tags.bh + ";");  // 48 characters: always fits a line of its own
    folder.word("b=", true, 1);

    std::string data = signed_headers;
    if (auto ok = append_signature_field(options.header_canon, folder.text(), data); !ok) return Error{ok.error()};
    auto signature = signer.key->sign(data);
    if (!signature) return Error{"selector " + signer.selector + ": " + signature.error()};
    folder.fill(base64_encode(*signature));
    return folder.text();
}

}  // namespace

Result<std::vector<std::string>> DkimSigner::finish() {
    if (finished_) return make_error("DKIM signer finished twice");
    finished_ = true;
    auto body_hash = body_.finish();
    if (!header_error_.empty()) return make_error(header_error_);
    if (auto ok = check_options(options_); !ok) return Error{ok.error()};
    if (!body_hash) return Error{body_hash.error()};
    auto names = names_to_sign(options_, headers_);
    if (!names) return Error{names.error()};
    auto tags = common_tags(options_, std::move(names).value(), *body_hash);
    if (!tags) return Error{tags.error()};

    // The signed fields are the same for every key; canonicalise them once.
    std::string signed_headers;
    append_signed_headers(options_.header_canon, headers_, tags->names, signed_headers);
    std::vector<std::string> fields;
    for (const SignerKey& signer : options_.keys) {
        auto field = sign_field(options_, signer, *tags, signed_headers);
        if (!field) return Error{field.error()};
        fields.push_back(std::move(field).value());
    }
    return fields;
}

Result<std::vector<std::string>> sign_message(std::string_view message, const SignOptions& options) {
    auto split = split_message(message);
    if (!split) return Error{split.error()};
    DkimSigner signer(options);
    for (HeaderField& field : split->headers) signer.add_header(std::move(field));
    signer.add_body(message.substr(split->body_offset));
    return signer.finish();
}

}  // namespace tenantmail
