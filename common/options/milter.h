// options/milter.h — the [milter] options of tenantmail.conf (and their
// command-line forms), typed. Declared once here so --help, the config file
// reader and conf/tenantmail.conf agree. Reading them cannot fail once
// load_config has validated the map. Pure: no libmilter.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <boost/program_options.hpp>

#include "common/config.h"
#include "common/dkim_canon.h"

namespace tenantmail::milter {

enum class ErrorAction { tempfail, accept };
// Mail of no tenant that uses a tenant's domain (foreign_sender.h).
enum class ForeignSenderAction { reject, accept };

// In the directory the Debian package makes for both daemons' sockets: inside
// Postfix's queue directory (reachable from a chrooted smtpd as
// unix:tenantmail/milter.sock), owned by tenantmail, group postfix, mode
// 2750, so only Postfix and the daemons' user can connect.
inline constexpr const char* kDefaultSocket = "unix:/var/spool/postfix/tenantmail/milter.sock";

struct MilterSettings {
    CommonSettings common;
    std::string socket;   // OpenDKIM/Sendmail syntax: inet:PORT@HOST, inet6:PORT@HOST, unix:/path
    unsigned socket_mode = 0660;  // unix sockets: set once libmilter has created it
    std::string pidfile;  // "" for none
    std::string user;     // drop to this user after reading keys; "" keeps the current one
    bool foreground = false;
    Canon header_canon = Canon::relaxed;
    Canon body_canon = Canon::relaxed;
    std::chrono::seconds signature_ttl{0};  // x= this long after t=; 0: no x=
    ErrorAction error_action = ErrorAction::tempfail;
    bool require_tenant = false;
    ForeignSenderAction foreign_sender_action = ForeignSenderAction::reject;
    std::string platform_tenant;  // whose key signs mail with a rewritten From
    std::chrono::seconds smtp_timeout{300};
    // Message records in Redis (common/message_store.h), written off the
    // mail path by a background thread (record_writer.h).
    bool record_messages = true;
    std::chrono::seconds record_ttl{7 * 24 * 3600};
    std::size_t record_queue_limit = 10000;  // records waiting for Redis; more are dropped
    std::string metrics_listen;              // "" for no metrics
    // Open/click tracking rewrites the body, so holds it in memory: up to this.
    std::size_t tracking_max_octets = 4096 * 1024;
    // S/MIME signing replaces the body too: held up to this; a larger
    // message due to be signed fails as a signing error would.
    std::size_t smime_max_octets = 10240 * 1024;
};

// Option values that validate themselves, so a bad one is reported at its
// file:line by load_config (Boost finds these validate() overloads by ADL).
struct CanonicalizationOption {
    Canon header = Canon::relaxed;
    Canon body = Canon::relaxed;
};
struct ErrorActionOption {
    ErrorAction value = ErrorAction::tempfail;
};
struct ForeignSenderActionOption {
    ForeignSenderAction value = ForeignSenderAction::reject;
};
struct SocketOption {
    std::string value;
};
void validate(boost::any& out, const std::vector<std::string>& values, CanonicalizationOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, ErrorActionOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, ForeignSenderActionOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, SocketOption*, int);

// Only the milter.* options: the [milter] entry of common/options/sections.h.
void add_milter_section_options(boost::program_options::options_description& desc);
// Everything tenantmail-milter accepts: the common options, -f and [milter].
void add_milter_options(boost::program_options::options_description& desc, const std::string& default_config);
MilterSettings milter_settings(const LoadedConfig& config);

}  // namespace tenantmail::milter
