#include "milter/milter_callbacks.h"
#include "milter/milter_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/recipient.h"
#include "common/reservation.h"
#include "common/text.h"
#include "milter/foreign_sender.h"
#include "milter/outbound_message.h"

namespace tenantmail::milter {
namespace {

const MilterSettings* g_settings = nullptr;
std::atomic<std::shared_ptr<const SigningTable>> g_table;
RecordWriter* g_records = nullptr;
MilterMetrics* g_metrics = nullptr;  // nullptr: no metrics
ReservationSettler* g_reservations = nullptr;

struct Connection {
    std::string client_address;  // "" for local or unknown clients
    std::string client_port;     // with server_address: the connection policyd names
    std::string server_address;  // {daemon_addr}
    // An accepted-only transaction (common/reservation.h): the tenant and
    // connection whose held permits its end commits or releases; "" when
    // there is nothing to settle.
    std::string held_tenant;
    std::string held_connection;
    bool leading_space = false;  // the MTA passes header values with their leading space
    std::string queue_id;
    std::unique_ptr<OutboundMessage> message;
    // Mail of no tenant, passed untouched unless it uses a tenant's identity:
    // the table its From fields are checked against, and the first claim.
    std::shared_ptr<const SigningTable> non_tenant;
    std::optional<IdentityClaim> from_claim;
    std::string login;
    // For the message record: the envelope as the client gave it.
    std::string envelope_from;
    std::vector<std::string> recipients;
};

Connection* connection(SMFICTX* ctx) { return static_cast<Connection*>(smfi_getpriv(ctx)); }

// libmilter holds the connection (as its private pointer) from here until
// on_close takes it back; one that was already there is freed, not leaked.
Connection& attach_new_connection(SMFICTX* ctx) {
    const std::unique_ptr<Connection> previous(connection(ctx));
    auto conn = std::make_unique<Connection>();
    if (smfi_setpriv(ctx, conn.get()) == MI_FAILURE) {
        smfi_setpriv(ctx, nullptr);
        throw std::runtime_error("smfi_setpriv failed");
    }
    return *conn.release();
}

std::string macro(SMFICTX* ctx, const char* name) {
    const char* value = smfi_getsymval(ctx, const_cast<char*>(name));
    return value == nullptr ? std::string() : std::string(value);
}

std::string port_text(const sockaddr* address) {
    if (address == nullptr) return {};
    if (address->sa_family == AF_INET) return std::to_string(ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port));
    if (address->sa_family == AF_INET6) {
        return std::to_string(ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port));
    }
    return {};
}

// The end of an accepted-only transaction: its permits kept for the
// recipients it was queued for (none: all taken back).
void settle(Connection& conn, const std::vector<std::string>* queued_for) {
    if (conn.held_connection.empty()) return;
    if (g_reservations != nullptr) {
        if (queued_for != nullptr) g_reservations->commit(conn.held_tenant, conn.held_connection, *queued_for);
        else g_reservations->release(conn.held_tenant, conn.held_connection);
    }
    conn.held_tenant.clear();
    conn.held_connection.clear();
}

void release(Connection& conn) { settle(conn, nullptr); }

std::string address_text(const sockaddr* address) {
    if (address == nullptr) return {};
    char text[INET6_ADDRSTRLEN] = "";
    if (address->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
    } else if (address->sa_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
    }
    return text;
}

const char* log_id(const Connection& conn) { return conn.queue_id.empty() ? "NOQUEUE" : conn.queue_id.c_str(); }

void count(std::string_view tenant, const char* result, const char* reason = "") {
    if (g_metrics != nullptr) g_metrics->message(tenant, result, reason);
}

// A refusal's result for the metrics: refused (5xx) or tempfailed (4xx).
const char* refusal_result(const SmtpReply& smtp) { return smtp.rcode[0] == '4' ? "tempfailed" : "refused"; }

sfsistat reply(SMFICTX* ctx, const SmtpReply& smtp, sfsistat status) {
    smfi_setreply(ctx, const_cast<char*>(smtp.rcode.c_str()), const_cast<char*>(smtp.xcode.c_str()),
                  const_cast<char*>(smtp.text.c_str()));
    return status;
}

// libmilter wants LF-only folds in values it hands to the MTA: Postfix and
// Sendmail store header lines with LF and add the CR on the wire.
std::string to_mta_value(std::string value, bool leading_space) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c != '\r') out.push_back(c);
    }
    if (!leading_space && !out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

// The field as it will be written: name, colon, value; LF folds become CRLF.
std::string raw_field(const char* name, const char* value, bool leading_space) {
    std::string raw(name);
    raw += leading_space ? ":" : ": ";
    for (const char* p = value; *p != '\0'; ++p) {
        if (*p == '\n' && (p == value || p[-1] != '\r')) raw.push_back('\r');
        raw.push_back(*p);
    }
    return raw;
}

bool apply(SMFICTX* ctx, const Connection& conn, const MessageOutcome& outcome) {
    for (const HeaderChange& change : outcome.changes) {
        std::string value = to_mta_value(change.value, conn.leading_space);
        char* name = const_cast<char*>(change.name.c_str());
        int status = MI_FAILURE;
        switch (change.kind) {
            case HeaderChange::Kind::replace: status = smfi_chgheader(ctx, name, change.occurrence, value.data()); break;
            case HeaderChange::Kind::append: status = smfi_addheader(ctx, name, value.data()); break;
            case HeaderChange::Kind::insert_at_top: status = smfi_insheader(ctx, 0, name, value.data()); break;
            case HeaderChange::Kind::remove: status = smfi_chgheader(ctx, name, change.occurrence, nullptr); break;
        }
        if (status != MI_SUCCESS) return false;
    }
    if (outcome.new_body) {
        // libmilter sends it on in chunks the protocol allows.
        auto* data = reinterpret_cast<unsigned char*>(const_cast<char*>(outcome.new_body->data()));
        if (smfi_replacebody(ctx, data, static_cast<int>(outcome.new_body->size())) != MI_SUCCESS) return false;
    }
    if (!outcome.envelope_from.empty()) {
        const std::string sender = "<" + outcome.envelope_from + ">";
        if (smfi_chgfrom(ctx, const_cast<char*>(sender.c_str()), nullptr) != MI_SUCCESS) return false;
    }
    return true;
}

// Mail of no tenant in a tenant's domain: logged, then refused unless
// foreign_sender_action = accept lets it pass untouched.
sfsistat foreign_sender(SMFICTX* ctx, const Connection& conn, const IdentityClaim& claim, const char* what) {
    const bool accept = g_settings->foreign_sender_action == ForeignSenderAction::accept;
    LOG_INFO("%s: client=[%s] login=%s: no tenant, %s in tenant %s's %s %s: %s", log_id(conn),
             conn.client_address.c_str(), conn.login.empty() ? "-" : conn.login.c_str(), what, claim.tenant.c_str(),
             claim.bounce_domain ? "bounce domain" : "domain", claim.domain.c_str(),
             accept ? "accepted (foreign_sender_action = accept)" : "refused: 550 5.7.1");
    if (accept) return SMFIS_ACCEPT;
    count(claim.tenant, "refused", "foreign_sender");
    return reply(ctx, foreign_sender_refusal(claim, what), SMFIS_REJECT);
}

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// libmilter passes envelope addresses with their angle brackets.
std::string bare_address(const char* argument) {
    std::string_view address = argument == nullptr ? std::string_view() : std::string_view(argument);
    if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
        address = address.substr(1, address.size() - 2);
    }
    return std::string(address);
}

void record_message(const Connection& conn, const OutboundMessage& message, const MessageOutcome& outcome,
                    std::int64_t now) {
    if (g_records == nullptr) return;
    const OutboundMessage::Summary summary = message.summary();
    MessageRecord record;
    record.queue_id = conn.queue_id;
    record.message_id = summary.message_id;
    record.tenant = message.tenant().id;
    record.traffic_class = std::string(to_string(message.traffic_class()));
    record.mail_from = conn.envelope_from;
    record.bounce_address = outcome.envelope_from;
    record.header_from = summary.header_from;
    record.header_to = summary.header_to;
    record.subject = summary.subject;
    record.time = now;
    record.recipients.reserve(conn.recipients.size());
    for (const std::string& recipient : conn.recipients) record.recipients.push_back(normalise_recipient(recipient));
    g_records->submit(std::move(record));
}

// Every callback runs its body through this: an exception (bad_alloc, a bug)
// must not unwind into libmilter's C code. The MTA then retries later.
template <class Body>
sfsistat guarded(SMFICTX* ctx, const char* stage, Body body) {
    try {
        return body();
    } catch (const std::exception& e) {
        LOG_ERROR("internal error at %s: %s", stage, e.what());
    } catch (...) {
        LOG_ERROR("internal error at %s", stage);
    }
    count("", "tempfailed", "internal_error");
    return reply(ctx, SmtpReply{"451", "4.3.0", "temporary failure, try again later"}, SMFIS_TEMPFAIL);
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long actions, unsigned long steps, unsigned long, unsigned long,
                      unsigned long* want_actions, unsigned long* want_steps, unsigned long*, unsigned long*) {
    return guarded(ctx, "negotiate", [&] {
        Connection* conn = &attach_new_connection(ctx);
        *want_actions = actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_CHGBODY);
        if ((actions & SMFIF_CHGFROM) == 0) LOG_WARNING("the MTA cannot change the envelope sender; bounces are not rewritten");
        if ((actions & SMFIF_CHGBODY) == 0) {
            LOG_WARNING("the MTA cannot replace message bodies; tracked and S/MIME-signed messages will be answered 451 4.3.0");
        }
        // Skip what we never look at. DATA stays: answering it avoids a
        // Nagle stall between the MTA's DATA and first header packets.
        // RCPT is kept, for message records and tracking links (which name
        // the recipient of a one-recipient message); answered (no
        // SMFIP_NR_RCPT), as an unanswered packet would let the MTA's next
        // one wait for our delayed ACK.
        const unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
        *want_steps = steps & skip;
        if (steps & SMFIP_HDR_LEADSPC) {
            *want_steps |= SMFIP_HDR_LEADSPC;
            conn->leading_space = true;
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR* address) {
    return guarded(ctx, "connect", [&] {
        Connection* conn = connection(ctx);
        if (conn == nullptr) conn = &attach_new_connection(ctx);  // an MTA that skipped negotiation
        conn->client_address = address_text(address);
        conn->client_port = port_text(address);
        conn->server_address = macro(ctx, "{daemon_addr}");
        return SMFIS_CONTINUE;
    });
}

sfsistat on_envfrom(SMFICTX* ctx, char** arguments) {
    return guarded(ctx, "MAIL", [&] {
        Connection& conn = *connection(ctx);
        release(conn);  // a transaction that ended unseen
        conn.message.reset();
        conn.non_tenant.reset();
        conn.from_claim.reset();
        conn.recipients.clear();
        conn.queue_id = macro(ctx, "i");
        std::shared_ptr<const SigningTable> table = g_table.load();
        const std::string login = macro(ctx, "{auth_authen}");
        conn.login = login;
        const std::optional<TenantMatch> match = table->registry().identify(login, conn.client_address);
        if (!match && !g_settings->require_tenant) {
            // Not ours: untouched, unless it claims a tenant's identity. The
            // envelope sender is known now; the From fields at end of headers.
            const std::string sender = bare_address(arguments[0]);
            if (auto claim = envelope_sender_claim(table->identities(), sender)) {
                return foreign_sender(ctx, conn, *claim, "envelope sender");
            }
            conn.non_tenant = std::move(table);
            return SMFIS_CONTINUE;
        }
        if (!match) {
            LOG_INFO("%s: client=[%s] login=%s: refused: no tenant", log_id(conn), conn.client_address.c_str(),
                     login.empty() ? "-" : login.c_str());
            count("", "refused", "no_tenant");
            return reply(ctx, SmtpReply{"550", "5.7.1", "sender is not a known tenant"}, SMFIS_REJECT);
        }
        const bool null_sender = arguments[0] != nullptr && std::string_view(arguments[0]) == "<>";
        if (match->tenant->counts_accepted_only(match->traffic_class)) {
            conn.held_connection = connection_id(conn.client_address, conn.client_port, conn.server_address);
            if (!conn.held_connection.empty()) conn.held_tenant = match->tenant->id;
        }
        conn.message = std::make_unique<OutboundMessage>(std::move(table), *g_settings, *match, null_sender);
        conn.envelope_from = bare_address(arguments[0]);
        return SMFIS_CONTINUE;
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** arguments) {
    return guarded(ctx, "RCPT", [&] {
        Connection& conn = *connection(ctx);
        if (conn.message && arguments[0] != nullptr) conn.recipients.push_back(bare_address(arguments[0]));
        return SMFIS_CONTINUE;
    });
}

sfsistat on_data(SMFICTX*) { return SMFIS_CONTINUE; }

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    return guarded(ctx, "header", [&] {
        Connection& conn = *connection(ctx);
        if (conn.message) conn.message->add_header(raw_field(name, value, conn.leading_space));
        if (conn.non_tenant && !conn.from_claim && iequals(name, "from")) {
            conn.from_claim = from_field_claim(conn.non_tenant->identities(), value);
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat on_eoh(SMFICTX* ctx) {
    return guarded(ctx, "end of headers", [&] {
        Connection& conn = *connection(ctx);
        if (conn.non_tenant) {
            conn.non_tenant.reset();
            if (!conn.from_claim) return SMFIS_ACCEPT;  // the body is none of our business
            if (conn.queue_id.empty()) conn.queue_id = macro(ctx, "i");
            return foreign_sender(ctx, conn, *conn.from_claim, "From");
        }
        if (!conn.message) return SMFIS_CONTINUE;
        if (auto refusal = conn.message->end_of_headers(now_seconds())) {
            if (conn.queue_id.empty()) conn.queue_id = macro(ctx, "i");
            LOG_INFO("%s: tenant=%s: refused: %s %s %s", log_id(conn), conn.message->tenant().id.c_str(),
                     refusal->rcode.c_str(), refusal->xcode.c_str(), refusal->text.c_str());
            count(conn.message->tenant().id, refusal_result(*refusal), "headers");
            conn.message.reset();
            release(conn);
            return reply(ctx, *refusal, refusal->rcode[0] == '4' ? SMFIS_TEMPFAIL : SMFIS_REJECT);
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t length) {
    return guarded(ctx, "body", [&] {
        Connection& conn = *connection(ctx);
        if (conn.message) conn.message->add_body(std::string_view(reinterpret_cast<const char*>(chunk), length));
        return SMFIS_CONTINUE;
    });
}

sfsistat on_eom(SMFICTX* ctx) {
    return guarded(ctx, "end of message", [&] {
        Connection& conn = *connection(ctx);
        if (!conn.message) return SMFIS_CONTINUE;
        const std::unique_ptr<OutboundMessage> message = std::move(conn.message);
        if (conn.queue_id.empty()) conn.queue_id = macro(ctx, "i");
        const char* tenant = message->tenant().id.c_str();
        const std::string traffic(to_string(message->traffic_class()));
        if (auto refusal = message->check_body()) {
            LOG_INFO("%s: tenant=%s: refused: %s %s %s", log_id(conn), tenant, refusal->rcode.c_str(),
                     refusal->xcode.c_str(), refusal->text.c_str());
            release(conn);
            count(tenant, "refused", "body");
            return reply(ctx, *refusal, SMFIS_REJECT);
        }
        const auto started = std::chrono::steady_clock::now();
        auto outcome = message->end_of_message(conn.queue_id, now_seconds(), conn.recipients);
        if (!outcome) {
            LOG_ERROR("%s: tenant=%s: signing failed, answering 451 4.3.0: %s", log_id(conn), tenant,
                      outcome.error().c_str());
            release(conn);
            count(tenant, "tempfailed", "signing_failed");
            return reply(ctx, SmtpReply{"451", "4.3.0", "temporary signing failure, try again later"},
                         SMFIS_TEMPFAIL);
        }
        if (!apply(ctx, conn, *outcome)) {
            LOG_ERROR("%s: tenant=%s: the MTA refused a header or sender change; answering 451 4.3.0", log_id(conn),
                      tenant);
            release(conn);
            count(tenant, "tempfailed", "mta_refused_change");
            return reply(ctx, SmtpReply{"451", "4.3.0", "temporary failure, try again later"}, SMFIS_TEMPFAIL);
        }
        if (g_metrics != nullptr) {
            g_metrics->signing_took(std::chrono::steady_clock::now() - started);
            g_metrics->message(tenant, outcome->signed_ok ? "signed" : "unsigned", outcome->signed_ok ? "" : "signing_failed");
        }
        LOG_INFO("%s: tenant=%s class=%s %s", log_id(conn), tenant, traffic.c_str(),
                 outcome->log_summary.c_str());
        record_message(conn, *message, *outcome, now_seconds());
        settle(conn, &conn.recipients);
        return SMFIS_CONTINUE;
    });
}

sfsistat on_abort(SMFICTX* ctx) {
    if (Connection* conn = connection(ctx)) {
        // RSET, or the client went away mid-transaction. Postfix sends the
        // abort with its next milter command (the next MAIL, or the
        // disconnect), so that is when the permits come back.
        release(*conn);
        conn->message.reset();
        conn->non_tenant.reset();
        conn->from_claim.reset();
        conn->recipients.clear();
    }
    return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx) {
    const std::unique_ptr<Connection> adopted(connection(ctx));
    smfi_setpriv(ctx, nullptr);
    if (adopted) release(*adopted);
    return SMFIS_CONTINUE;
}

}  // namespace

void install_settings(const MilterSettings& settings) { g_settings = &settings; }

void install_table(std::shared_ptr<const SigningTable> table) { g_table.store(std::move(table)); }

void install_record_writer(RecordWriter* writer) { g_records = writer; }

void install_metrics(MilterMetrics* metrics) { g_metrics = metrics; }

void install_reservation_settler(ReservationSettler* settler) { g_reservations = settler; }

smfiDesc& filter_description() {
    static smfiDesc description = {
        const_cast<char*>("tenantmail-milter"),
        SMFI_VERSION,
        SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_CHGBODY,
        on_connect,
        nullptr,  // helo
        on_envfrom,
        on_envrcpt,
        on_header,
        on_eoh,
        on_body,
        on_eom,
        on_abort,
        on_close,
        nullptr,  // unknown
        on_data,
        on_negotiate,
    };
    return description;
}

}  // namespace tenantmail::milter
