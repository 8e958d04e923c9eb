// outbound_message.h — what the milter does with one tenant's message, as
// pure logic (no libmilter): collect headers; at end of headers check From
// against the tenant's domains and plan a From rewrite, Reply-To and
// Message-ID; stream the body into the DKIM signer; at end of message produce
// the header changes, DKIM-Signature fields and new envelope sender to apply.
// Tracking (tracking_plan.h) runs before signing: a message whose HTML is
// tracked has its body held (up to tracking_max_octets) and replaced; the
// List-Unsubscribe pair and Feedback-ID are added; S/MIME (seven_bit.h,
// smime_signer.h) then signs that body for a From with a certificate in a
// class that has it on, replacing body, Content-Type, Content-Transfer-
// Encoding and MIME-Version (already signed or encrypted mail is left as it
// came; a signing failure is a signing error, never an unsigned message);
// then DKIM signs the final header and body.
// Header and body lines over 998 octets are refused (550 5.6.0): MTAs split
// them in transit, which breaks the signature; every field added here is
// folded within 78 where whitespace allows, and never past 998.
// Refusals come back as SMTP replies; nothing here logs or does I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dkim_signer.h"
#include "common/header_field.h"
#include "common/tenants.h"
#include "common/options/milter.h"
#include "common/signing_table.h"
#include "milter/smtp_reply.h"
#include "milter/tracking_plan.h"

namespace tenantmail::milter {

struct HeaderChange {
    enum class Kind { replace, append, insert_at_top, remove };
    Kind kind = Kind::append;
    std::string name;
    std::string value;   // as it follows the colon: leading space, folds as CRLF WSP
    int occurrence = 1;  // replace, remove: which field of that name, counting from 1
};

struct MessageOutcome {
    std::vector<HeaderChange> changes;  // in the order to apply
    std::string envelope_from;          // new MAIL FROM; "" keeps the original
    std::optional<std::string> new_body;  // the whole body to send instead (CRLF lines); nullopt keeps it
    bool signed_ok = false;             // false only when error_action = accept let a failure through
    std::string log_summary;            // "d=... s=... from=... bounce=..." for the decision log line
};

class OutboundMessage {
public:
    // null_sender: MAIL FROM:<> (a delivery report). It keeps its null
    // reverse-path (RFC 5321 4.5.5): a bounce address would invite loops.
    OutboundMessage(std::shared_ptr<const SigningTable> table, const MilterSettings& settings, TenantMatch match,
                    bool null_sender = false);

    // One header field exactly as it will be written: name, colon, value.
    void add_header(std::string raw_field);
    // Decides From, rewrite and signing identity; starts the signer.
    // now: seconds since the epoch (t= and generated Message-ID).
    std::optional<SmtpReply> end_of_headers(std::int64_t now);
    void add_body(std::string_view chunk);
    // A refusal for content that cannot arrive with a valid signature (a line
    // over 998 octets, which MTAs fold in transit); nullopt otherwise.
    std::optional<SmtpReply> check_body() const;
    // queue_id names the message in the bounce token and tracking links;
    // recipients: the envelope's (tracking links name the recipient only when
    // there is exactly one). An error means signing was due and failed (the
    // caller answers 451 4.3.0 or accepts unsigned).
    Result<MessageOutcome> end_of_message(std::string_view queue_id, std::int64_t now,
                                          const std::vector<std::string>& recipients = {});

    // What a message record keeps of the header (values unfolded, trimmed,
    // at most 998 octets each): From as the client wrote it (before any
    // rewrite), To, Subject, and the Message-ID present or added.
    struct Summary {
        std::string message_id;
        std::string header_from;
        std::string header_to;
        std::string subject;
    };
    Summary summary() const;

    const Tenant& tenant() const { return *match_.tenant; }
    TrafficClass traffic_class() const { return match_.traffic_class; }

private:
    std::optional<SmtpReply> plan_identity(const HeaderField& from);
    void plan_message_id(std::int64_t now);
    void start_signer(std::int64_t now);
    void plan_feedback_id();
    void plan_tracking();
    void plan_smime();
    void set_only_field(std::string_view name, std::string value);
    Result<void> smime_sign_body(std::string& body, std::string& log, std::int64_t now);
    TrackingContext tracking_context(std::string_view queue_id, std::int64_t now,
                                     const std::vector<std::string>& recipients) const;
    void plan_list_unsubscribe(const TrackingContext& context, std::string& log);
    // The held body after tracking (or as it came); nullopt when none was held.
    std::optional<std::string> finish_tracking(const TrackingContext& context, std::string& log, bool& tracked);
    void stop_holding_body(std::string reason);
    std::string bounce_address(std::string_view queue_id, std::int64_t now) const;

    std::shared_ptr<const SigningTable> table_;
    const MilterSettings& settings_;
    TenantMatch match_;
    bool null_sender_ = false;
    std::vector<HeaderField> headers_;
    std::string header_error_;         // first field that did not parse
    std::string overlong_header_;      // first field with a line over 998 octets
    std::vector<HeaderChange> changes_;  // planned at end of headers
    const Tenant* signer_tenant_ = nullptr;  // the tenant itself, or the platform for a rewrite
    std::string signing_domain_;
    std::string from_address_;
    std::string original_from_;  // From value as received, unfolded
    std::unique_ptr<DkimSigner> signer_;
    std::size_t line_length_ = 0;  // octets since the last LF in the body
    bool line_ends_with_cr_ = false;
    bool overlong_line_ = false;
    // Tracking and S/MIME: the body is held only while holding_body_;
    // untracked_ says why a message that would have been tracked was not.
    bool holding_body_ = false;
    bool tracking_due_ = false;
    const SmimeCertificate* smime_ = nullptr;  // the signer when S/MIME is due
    std::string smime_sender_;                 // its tenants.conf entry, for the log
    std::string smime_error_;                  // why signing, though due, cannot be done
    std::string smime_skipped_;                // why a message with a certificate is not signed
    std::string held_body_;
    std::string untracked_;
};

// The rewritten From for a tenant without a signable domain:
// "Jane Doe via acme" <uni-careers@platform.example>: the display name made a
// phrase (common/phrase.h: quoted, or RFC 2047 encoded, never raw), cut to
// 200 octets, folded at 78. The result is checked with the From parser; if it
// were not exactly one mailbox, the platform address alone is returned.
std::string rewritten_from_value(std::string_view original_display_name, std::string_view original_address,
                                 std::string_view tenant_name, std::string_view platform_address);

// The tenant's configured domain that covers domain (itself or a parent),
// longest first; "" when none does.
std::string covering_domain(const Tenant& tenant, std::string_view domain);

}  // namespace tenantmail::milter
