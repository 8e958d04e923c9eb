#include "milter/outbound_message.h"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "common/header_fold.h"
#include "common/mailbox.h"
#include "common/phrase.h"
#include "common/text.h"
#include "milter/mime_tracking.h"
#include "milter/seven_bit.h"
#include "milter/smime_signer.h"

namespace tenantmail::milter {
namespace {

constexpr std::size_t max_line_octets = max_header_line_octets;  // the same rule for body lines

SmtpReply refuse(std::string text) { return SmtpReply{"550", "5.7.1", std::move(text)}; }

const HeaderField* find_only(const std::vector<HeaderField>& headers, std::string_view name, std::size_t& count) {
    const HeaderField* found = nullptr;
    count = 0;
    for (const HeaderField& field : headers) {
        if (iequals(field.name(), name)) {
            if (found == nullptr) found = &field;
            ++count;
        }
    }
    return found;
}

bool has_header(const std::vector<HeaderField>& headers, std::string_view name) {
    std::size_t count = 0;
    return find_only(headers, name, count) != nullptr;
}

// Of a display name, only this much goes into a rewritten From: enough for
// any real name, and the field stays a few folded lines.
constexpr std::size_t max_display_name_octets = 200;

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        // Uniqueness, not secrecy, is what a Message-ID needs: mix the clock
        // and a per-process counter (splitmix64), so two calls never repeat
        // even within one clock tick.
        static std::atomic<std::uint64_t> calls{0};
        std::uint64_t state = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                              (calls.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
        for (std::size_t i = 0; i < bytes; ++i) {
            state += 0x9E3779B97F4A7C15ULL;
            std::uint64_t mixed = (state ^ (state >> 30)) * 0xBF58476D1CE4E5B9ULL;
            mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBULL;
            raw[i] = static_cast<char>((mixed ^ (mixed >> 31)) & 0xff);
        }
    }
    std::string hex;
    char digits[3];
    for (unsigned char c : raw) {
        std::snprintf(digits, sizeof digits, "%02x", c);
        hex += digits;
    }
    return hex;
}

// A header value as one line for a record: folds joined, ends trimmed.
std::string unfolded(std::string_view value) {
    constexpr std::size_t max_octets = 998;
    std::string out;
    for (char c : trim(value)) {
        if (c == '\r' || c == '\n') continue;
        if (out.size() == max_octets) break;
        out.push_back(c);
    }
    return out;
}

std::string first_value(const std::vector<HeaderField>& headers, std::string_view name) {
    std::size_t count = 0;
    const HeaderField* field = find_only(headers, name, count);
    return field == nullptr ? std::string() : unfolded(field->value());
}

HeaderField make_field(std::string_view name, std::string_view value) {
    auto field = parse_header_field(std::string(name) + ":" + std::string(value));
    return field ? std::move(field).value() : HeaderField{};
}

}  // namespace

std::string rewritten_from_value(std::string_view original_display_name, std::string_view original_address,
                                 std::string_view tenant_name, std::string_view platform_address) {
    const std::string_view who = utf8_prefix(original_display_name.empty() ? original_address : original_display_name,
                                             max_display_name_octets);
    const std::string phrase = make_phrase(std::string(who) + " via " + std::string(tenant_name));
    const std::string field = fold_field("From: " + phrase + " <" + std::string(platform_address) + ">");
    // Checked again as any From is: one mailbox, the platform address, lines
    // that survive transit. Should the phrase ever fail that, the bare
    // address is still a valid From; an invalid one would be refused or, if
    // let through unsigned, read differently by each receiver.
    const std::string value = field.substr(std::string_view("From:").size());
    const auto mailbox = parse_single_mailbox(value);
    if (mailbox && iequals(mailbox->address(), platform_address) && longest_line(field) <= max_header_line_octets) {
        return value;
    }
    return " " + std::string(platform_address);
}

std::string covering_domain(const Tenant& tenant, std::string_view domain) {
    const std::string wanted = to_lower(domain);
    std::string best;
    for (const std::string& own : tenant.domains) {
        const bool equal = wanted == own;
        const bool parent = wanted.size() > own.size() && wanted.compare(wanted.size() - own.size(), own.size(), own) == 0 &&
                            wanted[wanted.size() - own.size() - 1] == '.';
        if ((equal || parent) && own.size() > best.size()) best = own;
    }
    return best;
}

OutboundMessage::OutboundMessage(std::shared_ptr<const SigningTable> table, const MilterSettings& settings,
                                 TenantMatch match, bool null_sender)
    : table_(std::move(table)), settings_(settings), match_(match), null_sender_(null_sender) {}

void OutboundMessage::add_header(std::string raw_field) {
    auto field = parse_header_field(raw_field);
    if (!field) {
        if (header_error_.empty()) header_error_ = field.error();
        return;
    }
    // Each physical line counts: Postfix's SMTP client splits one over 998
    // octets (smtp_line_length_limit) as it does body lines.
    if (const std::size_t longest = longest_line(field->raw); longest > max_header_line_octets && overlong_header_.empty()) {
        overlong_header_ = "header field " + std::string(field->name()) + " has a line of " + std::to_string(longest) +
                           " octets";
    }
    headers_.push_back(std::move(field).value());
}

std::optional<SmtpReply> OutboundMessage::end_of_headers(std::int64_t now) {
    if (!header_error_.empty()) return refuse("malformed header field: " + header_error_);
    if (!overlong_header_.empty()) {
        return SmtpReply{"550", "5.6.0",
                         overlong_header_ + ", over the 998 of RFC 5322 2.1.1, which would break its DKIM signature "
                         "in transit; fold it at whitespace or encode it (RFC 2047)"};
    }
    std::size_t from_count = 0;
    const HeaderField* from = find_only(headers_, "from", from_count);
    if (from_count != 1) {
        return refuse("message must have exactly one From header field (it has " + std::to_string(from_count) + ")");
    }
    if (auto refusal = plan_identity(*from)) return refusal;
    plan_message_id(now);
    plan_feedback_id();
    plan_tracking();
    plan_smime();
    start_signer(now);
    return std::nullopt;
}

// One Feedback-ID, ours: a client's is replaced, any more are removed.
void OutboundMessage::plan_feedback_id() {
    const auto value = feedback_id_value(*match_.tenant, match_.traffic_class);
    if (!value) return;
    int present = 0;
    for (auto field = headers_.begin(); field != headers_.end();) {
        if (!iequals(field->name(), "feedback-id")) {
            ++field;
            continue;
        }
        if (++present == 1) {
            *field = make_field("Feedback-ID", *value);
            changes_.push_back({HeaderChange::Kind::replace, "Feedback-ID", *value, 1});
            ++field;
        } else {
            field = headers_.erase(field);
            changes_.push_back({HeaderChange::Kind::remove, "Feedback-ID", "", 2});  // the next one moves up
        }
    }
    if (present == 0) {
        headers_.push_back(make_field("Feedback-ID", *value));
        changes_.push_back({HeaderChange::Kind::append, "Feedback-ID", *value, 1});
    }
}

// Hold the body when the tenant tracks this class and the message may have
// HTML (or, with track_text_links, plain text): it is rewritten at its end,
// before the signer sees it.
void OutboundMessage::plan_tracking() {
    if (null_sender_) return;  // a delivery report is not a tenant's campaign
    TrackingContext context;
    context.tenant = match_.tenant;
    context.traffic_class = match_.traffic_class;
    context.codec = table_->tracking_codec();
    if (!tracks_html(context)) return;
    std::size_t count = 0;
    const HeaderField* type = find_only(headers_, "content-type", count);
    if (!may_hold_trackable_parts(type == nullptr ? "" : type->value(), tracks_text_links(context))) return;
    tracking_due_ = true;
    holding_body_ = true;
}

// Hold the body when the From has a certificate and the class signs; mail
// already signed or encrypted (by the client) passes as it came.
void OutboundMessage::plan_smime() {
    if (null_sender_ || signer_tenant_ != match_.tenant) return;  // reports; rewritten From is the platform's
    const Tenant& tenant = *match_.tenant;
    if (!tenant.smime_signs(match_.traffic_class)) return;
    const SmimeCertificate* certificate = table_->smime_certificate(tenant, from_address_);
    if (certificate == nullptr) return;
    std::size_t count = 0;
    const HeaderField* type = find_only(headers_, "content-type", count);
    if (type != nullptr && is_signed_or_encrypted_type(type->value())) {
        smime_skipped_ = "already signed or encrypted";
        return;
    }
    smime_ = certificate;
    const std::string address = to_lower(from_address_);
    const bool by_address = std::any_of(tenant.smime.begin(), tenant.smime.end(),
                                        [&](const SmimeSender& entry) { return entry.sender == address; });
    smime_sender_ = by_address ? address : address.substr(address.rfind('@'));
    holding_body_ = true;
}

void OutboundMessage::stop_holding_body(std::string reason) {
    holding_body_ = false;
    if (tracking_due_) untracked_ = std::move(reason);
    signer_->add_body(held_body_);
    std::string().swap(held_body_);
}

// Signs as the tenant when it owns the From domain and has a key; otherwise
// rewrites From to the platform address (tenants with from_rewrite) or refuses.
std::optional<SmtpReply> OutboundMessage::plan_identity(const HeaderField& from) {
    auto mailbox = parse_single_mailbox(from.value());
    if (!mailbox) return refuse("From header field: " + mailbox.error());
    from_address_ = mailbox->address();
    original_from_ = unfolded(from.value());
    const Tenant& tenant = *match_.tenant;
    const TenantKeys* keys = table_->keys(tenant);
    if (keys != nullptr && table_->registry().may_send_as(tenant, mailbox->domain)) {
        signer_tenant_ = &tenant;
        signing_domain_ = covering_domain(tenant, mailbox->domain);
        return std::nullopt;
    }
    if (tenant.from_rewrite.empty()) {
        return refuse("tenant " + tenant.id + " may not send as " + mailbox->domain);
    }
    const Tenant* platform = table_->platform();
    if (platform == nullptr) return SmtpReply{"451", "4.3.0", "From rewrite is not configured"};
    signer_tenant_ = platform;
    const std::string platform_domain = tenant.from_rewrite.substr(tenant.from_rewrite.rfind('@') + 1);
    signing_domain_ = covering_domain(*platform, platform_domain);

    const std::string new_from =
        rewritten_from_value(mailbox->display_name, mailbox->address(), tenant.id, tenant.from_rewrite);
    // Replies still reach the author, unless the author chose a Reply-To.
    // The From value is copied as it came, folded again where the longer
    // name would push a line past the width (and left out in the one case
    // no folding saves: a line of one unbroken word of nearly 998 octets).
    const std::string reply_to = fold_field("Reply-To:" + std::string(from.value()));
    const bool add_reply_to = !has_header(headers_, "reply-to") && longest_line(reply_to) <= max_header_line_octets;
    const std::string original_from_value = reply_to.substr(std::string_view("Reply-To:").size());
    for (HeaderField& field : headers_) {
        if (iequals(field.name(), "from")) field = make_field(field.name(), new_from);
    }
    changes_.push_back({HeaderChange::Kind::replace, "From", new_from, 1});
    if (add_reply_to) {
        headers_.push_back(make_field("Reply-To", original_from_value));
        changes_.push_back({HeaderChange::Kind::append, "Reply-To", original_from_value, 1});
    }
    return std::nullopt;
}

OutboundMessage::Summary OutboundMessage::summary() const {
    return Summary{first_value(headers_, "message-id"), original_from_, first_value(headers_, "to"),
                   first_value(headers_, "subject")};
}

void OutboundMessage::plan_message_id(std::int64_t now) {
    if (has_header(headers_, "message-id")) return;
    const std::string value =
        " <" + std::to_string(now) + "." + random_hex(8) + "@" + signing_domain_ + ">";
    headers_.push_back(make_field("Message-ID", value));
    changes_.push_back({HeaderChange::Kind::append, "Message-ID", value, 1});
}

void OutboundMessage::start_signer(std::int64_t now) {
    const TenantKeys* keys = table_->keys(*signer_tenant_);
    SignOptions options;
    options.domain = signing_domain_;
    options.header_canon = settings_.header_canon;
    options.body_canon = settings_.body_canon;
    options.timestamp = now;
    if (settings_.signature_ttl.count() > 0) options.expire_after = settings_.signature_ttl.count();
    if (keys != nullptr && keys->rsa) options.keys.push_back({&*keys->rsa, signer_tenant_->selector});
    if (keys != nullptr && keys->ed25519) options.keys.push_back({&*keys->ed25519, signer_tenant_->ed25519_selector});
    // The header fields go to the signer at the end of the message, when
    // tracking has added its own.
    signer_ = std::make_unique<DkimSigner>(std::move(options));
}

void OutboundMessage::add_body(std::string_view chunk) {
    // S/MIME holds up to its own bound (tracking then skips a body over its
    // own, at the end); without S/MIME tracking's bound stops holding.
    const std::size_t limit = smime_ != nullptr ? settings_.smime_max_octets : settings_.tracking_max_octets;
    if (holding_body_ && held_body_.size() + chunk.size() > limit) {
        if (smime_ != nullptr) {
            smime_error_ = "body over smime_max_kb (" + std::to_string(settings_.smime_max_octets / 1024) + " KiB)";
        }
        stop_holding_body("body over " + std::string(smime_ != nullptr ? "smime_max_kb" : "tracking_max_kb") + " (" +
                          std::to_string(limit / 1024) + " KiB)");
    }
    if (holding_body_) {
        held_body_.append(chunk);
    } else if (signer_) {
        signer_->add_body(chunk);
    }
    // RFC 5322 2.1.1 allows 998 octets before CRLF; Postfix's SMTP client
    // (smtp_line_length_limit) folds longer lines, breaking the body hash.
    for (std::size_t start = 0; start < chunk.size();) {
        const std::size_t lf = chunk.find('\n', start);
        const std::size_t end = lf == std::string_view::npos ? chunk.size() : lf;
        if (end > start) {
            line_length_ += end - start;
            line_ends_with_cr_ = chunk[end - 1] == '\r';
        }
        if (lf == std::string_view::npos) break;
        overlong_line_ = overlong_line_ || line_length_ - line_ends_with_cr_ > max_line_octets;
        line_length_ = 0;
        line_ends_with_cr_ = false;
        start = lf + 1;
    }
}

std::optional<SmtpReply> OutboundMessage::check_body() const {
    const bool last_line_overlong = line_length_ - line_ends_with_cr_ > max_line_octets;
    if (!overlong_line_ && !last_line_overlong) return std::nullopt;
    return SmtpReply{"550", "5.6.0",
                     "message has a line longer than 998 octets (RFC 5322 2.1.1), which would break its DKIM "
                     "signature in transit; encode the body as quoted-printable or base64"};
}

std::string OutboundMessage::bounce_address(std::string_view queue_id, std::int64_t now) const {
    const Tenant& tenant = *match_.tenant;
    const std::string& domain = tenant.bounce_domain.empty() ? signer_tenant_->bounce_domain : tenant.bounce_domain;
    if (domain.empty()) return std::string();
    // Sendmail or an unusually long id: a random reference still lets the
    // bounce processor authenticate the bounce, if not find the queue file.
    std::string id(queue_id);
    if (id.empty() || id.size() > BounceAddressCodec::max_queue_id_length) id = random_hex(6);
    auto address = table_->bounce_codec().encode({id, now, tenant.id}, domain);
    return address ? *address : std::string();
}

TrackingContext OutboundMessage::tracking_context(std::string_view queue_id, std::int64_t now,
                                                  const std::vector<std::string>& recipients) const {
    TrackingContext context;
    context.tenant = match_.tenant;
    context.traffic_class = match_.traffic_class;
    context.codec = table_->tracking_codec();
    context.queue_id = std::string(queue_id);
    context.recipients = recipients;
    // The mailto: form goes to the tenant's own bounce domain, where
    // tenantmail-bounce checks the token against that tenant.
    context.bounce_domain = match_.tenant->bounce_domain;
    context.now = now;
    return context;
}

// RFC 8058: only for one recipient, and never over the tenant's own.
void OutboundMessage::plan_list_unsubscribe(const TrackingContext& context, std::string& log) {
    if (null_sender_ || !context.tenant->adds_list_unsubscribe(context.traffic_class) || context.codec == nullptr) return;
    if (has_header(headers_, "list-unsubscribe")) return;
    const auto value = list_unsubscribe_value(context);
    if (!value) {
        log += " no-list-unsubscribe (" + std::to_string(context.recipients.size()) + " recipients)";
        return;
    }
    headers_.push_back(make_field("List-Unsubscribe", *value));
    changes_.push_back({HeaderChange::Kind::append, "List-Unsubscribe", *value, 1});
    if (!has_header(headers_, "list-unsubscribe-post")) {
        headers_.push_back(make_field("List-Unsubscribe-Post", kListUnsubscribePost));
        changes_.push_back({HeaderChange::Kind::append, "List-Unsubscribe-Post", std::string(kListUnsubscribePost), 1});
    }
    log += " list-unsubscribe";
}

// The held body tracked, or, if tracking leaves it (or is not due), as it came.
std::optional<std::string> OutboundMessage::finish_tracking(const TrackingContext& context, std::string& log,
                                                            bool& tracked) {
    tracked = false;
    if (!holding_body_) {
        if (!untracked_.empty()) log += " untracked (" + untracked_ + ")";
        return std::nullopt;
    }
    holding_body_ = false;
    std::string held;
    held.swap(held_body_);
    if (!tracking_due_) return held;
    if (held.size() > settings_.tracking_max_octets) {
        log += " untracked (body over tracking_max_kb (" + std::to_string(settings_.tracking_max_octets / 1024) +
               " KiB))";
        return held;
    }
    std::vector<std::string> leave_alone;
    for (const HeaderField& field : headers_) {
        if (!iequals(field.name(), "list-unsubscribe")) continue;
        for (std::string& url : list_unsubscribe_urls(field.value())) leave_alone.push_back(std::move(url));
    }
    std::size_t count = 0;
    const HeaderField* type = find_only(headers_, "content-type", count);
    const HeaderField* encoding = find_only(headers_, "content-transfer-encoding", count);
    MimeTrackingResult result = track_mime_body(type == nullptr ? "" : type->value(),
                                                 encoding == nullptr ? "" : encoding->value(), held,
                                                 {html_tracker(context, std::move(leave_alone)), tracks_text_links(context)});
    if (!result.body) {
        log += " untracked (" + (result.skipped.empty() ? std::string("no HTML to track") : result.skipped) + ")";
        return held;
    }
    log += " tracked (html-parts=" + std::to_string(result.html_parts) +
           (result.text_parts > 0 ? " text-parts=" + std::to_string(result.text_parts) : std::string()) +
           " links=" + std::to_string(result.links_rewritten) + (result.pixel_added ? " pixel" : "") + ")";
    if (context.recipients.size() != 1) log += " links-name-message-only";
    if (!result.skipped.empty()) log += " partly (" + result.skipped + ")";
    tracked = true;
    return std::move(result.body);
}

// Exactly one field of that name, with this value: the first replaced, any
// more removed, or one appended.
void OutboundMessage::set_only_field(std::string_view name, std::string value) {
    int present = 0;
    for (auto field = headers_.begin(); field != headers_.end();) {
        if (!iequals(field->name(), name)) {
            ++field;
            continue;
        }
        if (++present == 1) {
            *field = make_field(name, value);
            changes_.push_back({HeaderChange::Kind::replace, std::string(name), value, 1});
            ++field;
        } else {
            field = headers_.erase(field);
            changes_.push_back({HeaderChange::Kind::remove, std::string(name), "", 2});  // the next one moves up
        }
    }
    if (present == 0) {
        headers_.push_back(make_field(name, value));
        changes_.push_back({HeaderChange::Kind::append, std::string(name), std::move(value), 1});
    }
}

// body: the message body to sign, replaced by the multipart/signed one.
Result<void> OutboundMessage::smime_sign_body(std::string& body, std::string& log, std::int64_t now) {
    if (now > smime_->not_after()) return make_error("S/MIME certificate " + smime_->path() + " has expired");
    std::size_t count = 0;
    const HeaderField* type = find_only(headers_, "content-type", count);
    const HeaderField* encoding = find_only(headers_, "content-transfer-encoding", count);
    auto entity = seven_bit_entity(type == nullptr ? "" : type->value(), encoding == nullptr ? "" : encoding->value(),
                                   body);
    if (!entity) return make_error("S/MIME: " + entity.error());
    auto signed_body = smime_sign(*entity, *smime_);
    if (!signed_body) return make_error("S/MIME: " + signed_body.error());
    body = std::move(signed_body->body);
    set_only_field("MIME-Version", " 1.0");
    set_only_field("Content-Type", std::move(signed_body->content_type));
    set_only_field("Content-Transfer-Encoding", " 7bit");
    log += " smime (" + smime_sender_ + ")";
    return {};
}

Result<MessageOutcome> OutboundMessage::end_of_message(std::string_view queue_id, std::int64_t now,
                                                       const std::vector<std::string>& recipients) {
    MessageOutcome outcome;
    const TrackingContext context = tracking_context(queue_id, now, recipients);
    std::string tracking_log;
    bool tracked = false;
    std::optional<std::string> body = finish_tracking(context, tracking_log, tracked);
    if (smime_ != nullptr && smime_error_.empty() && body) {
        if (auto ok = smime_sign_body(*body, tracking_log, now); !ok) smime_error_ = ok.error();
    }
    if (smime_ != nullptr && !smime_error_.empty()) {
        // Due but impossible: the caller answers 451 (error_action tempfail),
        // or, with accept, the message goes on without S/MIME, logged.
        if (settings_.error_action == ErrorAction::tempfail) return Error{"S/MIME signing: " + smime_error_};
        tracking_log += " smime-failed (" + smime_error_ + ")";
    } else if (!smime_skipped_.empty()) {
        tracking_log += " no-smime (" + smime_skipped_ + ")";
    }
    if (body) {
        signer_->add_body(*body);
        if (tracked || (smime_ != nullptr && smime_error_.empty())) outcome.new_body = std::move(body);
    }
    plan_list_unsubscribe(context, tracking_log);
    for (const HeaderField& field : headers_) signer_->add_header(field.raw);
    outcome.changes = changes_;
    auto signatures = signer_->finish();
    if (signatures) {
        for (const std::string& field : *signatures) {
            const auto colon = field.find(':');
            outcome.changes.push_back(
                {HeaderChange::Kind::insert_at_top, field.substr(0, colon), field.substr(colon + 1), 1});
        }
        outcome.signed_ok = true;
    } else if (settings_.error_action == ErrorAction::tempfail) {
        return Error{signatures.error()};
    }
    if (!null_sender_) outcome.envelope_from = bounce_address(queue_id, now);

    std::string selectors = signer_tenant_->selector;
    if (!signer_tenant_->ed25519_selector.empty()) {
        selectors += (selectors.empty() ? "" : ",") + signer_tenant_->ed25519_selector;
    }
    outcome.log_summary = "from=<" + from_address_ + ">";
    if (signer_tenant_ != match_.tenant) outcome.log_summary += " rewritten-from=<" + match_.tenant->from_rewrite + ">";
    outcome.log_summary += outcome.signed_ok ? " d=" + signing_domain_ + " s=" + selectors
                                             : " unsigned (" + signatures.error() + ")";
    if (!outcome.envelope_from.empty()) outcome.log_summary += " bounce=<" + outcome.envelope_from + ">";
    outcome.log_summary += tracking_log;
    return outcome;
}

}  // namespace tenantmail::milter
