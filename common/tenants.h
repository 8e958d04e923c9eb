// tenants.h — the tenant registry: who each tenant is (tenants.conf, format in
// conf/tenants.conf), and the per-request lookups the daemons make: by SASL
// login, by client address, and whether a tenant may send as a From domain.
// Does not open key files (dkim_key.h does) or talk to Redis.
// A file with any error is rejected whole with "file:line: reason"; callers
// keep their previous registry in that case.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "common/network.h"
#include "common/quota_calendar.h"
#include "common/result.h"
#include "common/sending_health.h"
#include "common/sending_limit.h"
#include "common/tenant_limits.h"

namespace tenantmail {

// Which rate limit a message counts against. Adding a class is one enum
// value and one row of kTrafficClasses: the tenants.conf keys, the SASL
// suffix, the Redis rate key, the logs and tenantmailctl usage follow it.
enum class TrafficClass { bulk, transactional };

struct TrafficClassInfo {
    TrafficClass traffic_class;
    std::string_view name;      // as in "login:NAME", logs, rate key "rate:NAME"
    std::string_view rate_key;   // the tenants.conf option of its sliding windows
    std::string_view quota_key;  // the tenants.conf option of its calendar quotas
    std::string_view route_key;  // the tenants.conf option of its Postfix transport
};

// In enum order, so a class's value indexes its row (and Tenant::rates).
inline constexpr std::array<TrafficClassInfo, 2> kTrafficClasses{{
    {TrafficClass::bulk, "bulk", "bulk_rate", "bulk_quota", "bulk_route"},
    {TrafficClass::transactional, "transactional", "transactional_rate", "transactional_quota", "transactional_route"},
}};
inline constexpr std::size_t kTrafficClassCount = kTrafficClasses.size();

constexpr std::size_t traffic_class_index(TrafficClass traffic_class) {
    return static_cast<std::size_t>(traffic_class);
}
constexpr const TrafficClassInfo& traffic_class_info(TrafficClass traffic_class) {
    return kTrafficClasses[traffic_class_index(traffic_class)];
}
std::string_view to_string(TrafficClass traffic_class);
std::optional<TrafficClass> parse_traffic_class(std::string_view name);

struct SaslUser {
    std::string login;  // exact, case-sensitive
    TrafficClass traffic_class = TrafficClass::bulk;
};

inline constexpr RateLimit kDefaultTenantRate{500, std::chrono::minutes(3)};

// One S/MIME signing identity of a tenant (tenants.conf smime): the From
// address it signs for, or "@domain" for every address of that domain (a
// private CA's domain certificate), and the PEM file with certificate, key
// and chain (loaded by common/smime/smime_certificate.h).
struct SmimeSender {
    std::string sender;  // "user@domain" or "@domain", lower case
    std::string path;
};

struct Tenant {
    std::string id;                    // [a-z0-9][a-z0-9_-]{0,62}
    std::size_t line = 0;              // of the [id] header, for messages
    std::vector<std::string> domains;  // lower case, no trailing dot
    std::string selector;              // RSA key; both empty when the tenant does not sign
    std::string key_path;
    std::string ed25519_selector;  // optional second signature
    std::string ed25519_key_path;
    bool allow_rsa1024 = false;
    std::string bounce_domain;  // required when signing; else may be empty
    std::vector<SaslUser> sasl_users;
    std::vector<Network> networks;
    // Sending limits, indexed by traffic_class_index(): the sliding windows
    // of CLASS_rate (default kDefaultTenantRate) and the calendar quotas of
    // CLASS_quota (default none); all of them apply to every recipient, and
    // so do the login_limits of the SASL login the mail came with.
    std::array<std::vector<SendingLimit>, kTrafficClassCount> rates = default_rates();
    std::array<std::vector<SendingLimit>, kTrafficClassCount> quotas{};
    std::vector<LoginLimit> login_limits;
    QuotaTimeZone time_zone;         // of the quotas' days and months; UTC by default
    unsigned quota_month_start = 1;  // day of the month the monthly quotas reset
    PausePolicy pause;               // when bad rates pause its bulk mail (sending_health.h)
    // CLASS_route: the "transport:nexthop" policyd answers FILTER with on
    // permit (common/transport_route.h); "" leaves Postfix's own routing.
    std::array<std::string, kTrafficClassCount> routes{};
    // Classes counted accepted-only: a permit is taken back when the milter
    // sees its message not queued (common/reservation.h). Default none.
    std::array<bool, kTrafficClassCount> accepted_only{};
    std::string from_rewrite;  // addr-spec, domain lower-cased; empty: no rewrite
    std::string webhook_url;     // where tenantmail-webhookd POSTs events; "" for none
    std::string webhook_secret;  // path of the signing secret; set exactly when webhook_url is
    // Open/click tracking and one-click unsubscribe: all off unless
    // tracking_domain (a host the tenant points at tenantmail-trackd) is set.
    // Per traffic class, indexed by traffic_class_index(); default: bulk only.
    std::string tracking_domain;  // lower case, no trailing dot; "" for none
    std::array<bool, kTrafficClassCount> track_opens = bulk_only();
    std::array<bool, kTrafficClassCount> track_clicks = bulk_only();
    // Links in text/plain parts too, for classes whose clicks are tracked;
    // default: none (plain text is left as the tenant wrote it).
    std::array<bool, kTrafficClassCount> track_text_links{};
    std::array<bool, kTrafficClassCount> list_unsubscribe = bulk_only();
    std::string feedback_id;  // the SenderId part of Feedback-ID; "" for the tenant id
    // S/MIME: off unless smime lists certificates; then for every class
    // unless smime_classes says otherwise.
    std::vector<SmimeSender> smime;
    std::array<bool, kTrafficClassCount> smime_classes = all_classes();

    bool signs() const { return !key_path.empty(); }
    bool signs_ed25519() const { return !ed25519_key_path.empty(); }
    const std::vector<SendingLimit>& rates_of(TrafficClass c) const { return rates[traffic_class_index(c)]; }
    const std::vector<SendingLimit>& quotas_of(TrafficClass c) const { return quotas[traffic_class_index(c)]; }
    const std::string& route_of(TrafficClass c) const { return routes[traffic_class_index(c)]; }
    bool counts_accepted_only(TrafficClass c) const { return accepted_only[traffic_class_index(c)]; }
    bool tracks_opens(TrafficClass c) const { return !tracking_domain.empty() && track_opens[traffic_class_index(c)]; }
    bool tracks_clicks(TrafficClass c) const {
        return !tracking_domain.empty() && track_clicks[traffic_class_index(c)];
    }
    bool tracks_text_links(TrafficClass c) const { return tracks_clicks(c) && track_text_links[traffic_class_index(c)]; }
    bool adds_list_unsubscribe(TrafficClass c) const {
        return !tracking_domain.empty() && list_unsubscribe[traffic_class_index(c)];
    }
    bool smime_signs(TrafficClass c) const { return !smime.empty() && smime_classes[traffic_class_index(c)]; }

private:
    static constexpr std::array<bool, kTrafficClassCount> bulk_only() {
        std::array<bool, kTrafficClassCount> only{};
        only[traffic_class_index(TrafficClass::bulk)] = true;
        return only;
    }
    static constexpr std::array<bool, kTrafficClassCount> all_classes() {
        std::array<bool, kTrafficClassCount> all{};
        all.fill(true);
        return all;
    }
    static std::array<std::vector<SendingLimit>, kTrafficClassCount> default_rates() {
        SendingLimit limit;
        limit.count = kDefaultTenantRate.count;
        limit.window = kDefaultTenantRate.window;
        limit.primary = true;
        std::array<std::vector<SendingLimit>, kTrafficClassCount> defaults;
        defaults.fill({limit});
        return defaults;
    }
};

struct TenantMatch {
    const Tenant* tenant = nullptr;
    TrafficClass traffic_class = TrafficClass::bulk;
};

class TenantRegistry {
public:
    TenantRegistry() = default;  // empty: no tenants, every lookup misses

    static Result<TenantRegistry> load_file(const std::string& path);
    // filename only names the source in error messages.
    static Result<TenantRegistry> parse(std::string_view text, std::string_view filename);

    const Tenant* find(std::string_view id) const;
    // Exact, case-sensitive login as Postfix passes it (sasl_username).
    std::optional<TenantMatch> by_sasl_user(std::string_view login) const;
    // Client address text as Postfix reports it (IPv4, IPv6 or IPv4-mapped).
    // Mail identified by network counts as bulk.
    std::optional<TenantMatch> by_client_address(std::string_view address_text) const;
    std::optional<TenantMatch> by_client_address(const IpAddress& address) const;

    // Who is sending: the tenant of the SASL login when there is one that
    // matches, else the tenant whose network holds the client address. The
    // one lookup order the milter and policyd share, so both name the same
    // tenant for the same session. Either argument may be empty.
    std::optional<TenantMatch> identify(std::string_view login, std::string_view client_address) const;

    // The tenant whose tracking_domain is host (case-insensitive, trailing
    // dot ignored; no port), or nullptr.
    const Tenant* by_tracking_domain(std::string_view host) const;

    // The tenant whose domain is the longest match for domain (itself or a
    // parent), or nullptr. Case-insensitive; a trailing dot is ignored.
    const Tenant* domain_owner(std::string_view domain) const;
    // True only when tenant is domain_owner(domain): owning uni.ac.uk does not
    // let a tenant send as careers.uni.ac.uk when another tenant claims that.
    bool may_send_as(const Tenant& tenant, std::string_view domain) const;
    const std::vector<Tenant>& tenants() const { return tenants_; }

private:
    // Transparent hashing so lookups take string_view without a copy.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    template <class V>
    using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;

    friend class TenantRegistryBuilder;

    // Indexes into tenants_, so a copied or moved registry stays valid.
    std::vector<Tenant> tenants_;
    Map<std::size_t> by_id_;
    Map<std::size_t> by_domain_;
    Map<std::pair<std::size_t, TrafficClass>> by_login_;
    Map<std::size_t> by_tracking_domain_;
    // Linear scan: tenants with networks are few and blocks never overlap, so
    // the first hit is the only hit. Replace with a prefix trie if that changes.
    std::vector<std::pair<Network, std::size_t>> networks_;
};

}  // namespace tenantmail
