// tenants.cpp — reading tenants.conf into a TenantRegistry.
// Three passes over the lexed file: fields of each tenant (syntax of each
// value), each tenant on its own (required and paired fields), then the
// tenants against each other (no domain, login or network claimed twice).
// The first error stops the load; nothing half-read ever reaches a daemon.
#include "common/tenants.h"

#include <algorithm>
#include <array>

#include "common/ini_file.h"
#include "common/text.h"
#include "common/transport_route.h"

namespace tenantmail {
namespace {

// The keys of a tenant section; the rate keys (one per traffic class) come
// from kTrafficClasses, between these two groups.
constexpr std::array<std::string_view, 9> kKeysBeforeRates{
    "domains", "selector", "key", "ed25519_selector", "ed25519_key", "allow_rsa1024", "bounce_domain", "sasl_users",
    "networks",
};
constexpr std::array<std::string_view, 19> kKeysAfterRates{
    "login_limits",      "accepted_only",       "time_zone",         "quota_month_start", "pause_period",
    "pause_min_delivered", "pause_bounce_rate", "pause_complaint_rate", "from_rewrite",
    "webhook_url",       "webhook_secret",      "tracking_domain",   "track_opens",
    "track_clicks",      "track_text_links",    "list_unsubscribe",  "feedback_id",
    "smime",             "smime_classes"};
// The tracking switches, which mean nothing without tracking_domain.
constexpr std::array<std::string_view, 4> kTrackingSwitches{"track_opens", "track_clicks", "track_text_links",
                                                            "list_unsubscribe"};

std::vector<std::string_view> known_keys() {
    std::vector<std::string_view> keys(kKeysBeforeRates.begin(), kKeysBeforeRates.end());
    for (const TrafficClassInfo& info : kTrafficClasses) {
        keys.push_back(info.rate_key);
        keys.push_back(info.quota_key);
        keys.push_back(info.route_key);
    }
    keys.insert(keys.end(), kKeysAfterRates.begin(), kKeysAfterRates.end());
    return keys;
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(ascii_lower(c)); }

bool valid_tenant_id(std::string_view id) {
    if (id.empty() || id.size() > 63 || !is_lower_alnum(id.front())) return false;
    return std::all_of(id.begin(), id.end(), [](char c) { return is_lower_alnum(c) || c == '_' || c == '-'; });
}

// A DNS label as in RFC 1035 "preferred name syntax": letters, digits,
// inner hyphens, 1-63 octets. Underscore labels are not host names.
bool valid_label(std::string_view label) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// Counts labels, or returns 0 when any label is invalid.
std::size_t count_labels(std::string_view name) {
    std::size_t labels = 0;
    for (;;) {
        const std::size_t dot = name.find('.');
        if (!valid_label(name.substr(0, dot))) return 0;
        ++labels;
        if (dot == std::string_view::npos) return labels;
        name.remove_prefix(dot + 1);
    }
}

// Lower case, trailing dot dropped, at least two labels, and not a dotted
// IPv4 address (whose last label would be all digits).
Result<std::string> normalise_domain(std::string_view text) {
    std::string domain = to_lower(text);
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    if (domain.size() > 253 || count_labels(domain) == 0) return make_error("invalid domain " + in_quotes(text));
    if (domain.find('.') == std::string::npos) return make_error("domain " + in_quotes(text) + " has no dot");
    const std::string_view tld = std::string_view(domain).substr(domain.rfind('.') + 1);
    if (std::all_of(tld.begin(), tld.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return make_error(in_quotes(text) + " is not a domain name");
    }
    return domain;
}

Result<bool> parse_yes_no(std::string_view text) {
    for (const std::string_view yes : {"yes", "true", "on", "1"}) {
        if (iequals(text, yes)) return true;
    }
    for (const std::string_view no : {"no", "false", "off", "0"}) {
        if (iequals(text, no)) return false;
    }
    return make_error("expected yes or no, got " + in_quotes(text));
}

// RFC 5322 atext, the characters of an unquoted local part.
bool is_atext(char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// A bare dot-atom local part and a host name: no display name, no angle
// brackets, no quoted local part (those would need quoting in the header).
Result<std::string> parse_addr_spec(std::string_view text) {
    const std::size_t at = text.rfind('@');
    if (at == std::string_view::npos) return make_error(in_quotes(text) + " is not an address (no '@')");
    const std::string_view local = text.substr(0, at);
    const bool atoms_ok = !local.empty() && local.size() <= 64 && local.front() != '.' && local.back() != '.' &&
                          local.find("..") == std::string_view::npos &&
                          std::all_of(local.begin(), local.end(), [](char c) { return is_atext(c) || c == '.'; });
    if (!atoms_ok) return make_error("invalid local part in " + in_quotes(text) + " (plain user@domain only)");
    auto domain = normalise_domain(text.substr(at + 1));
    if (!domain) return make_error("in " + in_quotes(text) + ": " + domain.error());
    return std::string(local) + "@" + *domain;
}

// "bulk or transactional": the class names for an error message.
std::string traffic_class_choices() {
    std::string out;
    for (std::size_t i = 0; i < kTrafficClasses.size(); ++i) {
        if (i > 0) out += i + 1 == kTrafficClasses.size() ? " or " : ", ";
        out += kTrafficClasses[i].name;
    }
    return out;
}

Result<SaslUser> parse_sasl_user(std::string_view item) {
    SaslUser user{std::string(item), TrafficClass::bulk};
    const std::size_t colon = item.rfind(':');
    if (colon != std::string_view::npos) {
        user.login = std::string(item.substr(0, colon));
        const std::string_view name = item.substr(colon + 1);
        const std::optional<TrafficClass> traffic_class = parse_traffic_class(name);
        if (!traffic_class) {
            return make_error("unknown class " + in_quotes(name) + " for " + in_quotes(user.login) + " (" +
                              traffic_class_choices() + ")");
        }
        user.traffic_class = *traffic_class;
    }
    if (user.login.empty()) return make_error("empty login in " + in_quotes(item));
    return user;
}

Result<std::string> parse_key_path(std::string_view text) {
    // Daemons run from / after start-up; a relative path would depend on
    // where they were started from.
    if (text.front() != '/') return make_error("key path " + in_quotes(text) + " is not absolute");
    return std::string(text);
}

Result<std::string> parse_selector(std::string_view text) {
    if (text.size() > 253 || count_labels(text) == 0) {
        return make_error("invalid selector " + in_quotes(text) + " (DNS labels: letters, digits, '-', '.')");
    }
    return std::string(text);
}

Result<std::string> parse_webhook_url(std::string_view text) {
    if (!text.starts_with("https://") && !text.starts_with("http://")) {
        return make_error("webhook_url " + in_quotes(text) + " is not an http(s) URL");
    }
    if (std::any_of(text.begin(), text.end(), is_wsp)) return make_error("space inside webhook_url");
    return std::string(text);
}

template <class T>
Result<std::vector<T>> parse_each(std::string_view list, Result<T> (*parse_one)(std::string_view)) {
    std::vector<T> items;
    for (const std::string_view item : split_list(list)) {
        auto parsed = parse_one(item);
        if (!parsed) return Error{parsed.error()};
        items.push_back(std::move(*parsed));
    }
    return items;
}

Result<Network> parse_network(std::string_view text) { return Network::parse(text); }

// "bulk transactional", "all" or "none": the traffic classes a switch is on for.
Result<std::array<bool, kTrafficClassCount>> parse_class_set(std::string_view text) {
    std::array<bool, kTrafficClassCount> on{};
    const auto items = split_list(text);
    if (items.size() == 1 && (items.front() == "none" || items.front() == "all")) {
        on.fill(items.front() == "all");
        return on;
    }
    if (items.empty()) return make_error("empty; give traffic classes, all or none");
    for (const std::string_view item : items) {
        const auto traffic_class = parse_traffic_class(item);
        if (!traffic_class) return make_error("unknown traffic class " + in_quotes(item) + " (classes, all or none)");
        on[traffic_class_index(*traffic_class)] = true;
    }
    return on;
}

// Gmail's SenderId: the last colon-separated field of Feedback-ID.
Result<std::string> parse_feedback_id(std::string_view text) {
    const auto allowed = [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; };
    if (text.empty() || text.size() > 64 || !std::all_of(text.begin(), text.end(), allowed)) {
        return make_error(in_quotes(text) + " is not 1-64 letters, digits, '.', '_' or '-'");
    }
    return std::string(text);
}

// "noreply@careers.uni.ac.uk:/etc/tenantmail/smime/noreply.pem" or
// "@careers.uni.ac.uk:/path" (a domain certificate). The first colon ends
// the sender: an unquoted address has none.
Result<SmimeSender> parse_smime_sender(std::string_view item) {
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
        return make_error(in_quotes(item) + " is not ADDRESS:/path/to/file.pem (or @DOMAIN:/path)");
    }
    const std::string_view sender = item.substr(0, colon);
    if (colon + 1 == item.size()) return make_error("no file after " + in_quotes(item));
    auto path = parse_key_path(item.substr(colon + 1));
    if (!path) return Error{path.error()};
    if (sender.starts_with('@')) {
        auto domain = normalise_domain(sender.substr(1));
        if (!domain) return Error{domain.error()};
        return SmimeSender{"@" + *domain, std::move(*path)};
    }
    auto address = parse_addr_spec(sender);
    if (!address) return Error{address.error()};
    return SmimeSender{to_lower(*address), std::move(*path)};
}

}  // namespace

std::string_view to_string(TrafficClass traffic_class) { return traffic_class_info(traffic_class).name; }

std::optional<TrafficClass> parse_traffic_class(std::string_view name) {
    for (const TrafficClassInfo& info : kTrafficClasses) {
        if (info.name == name) return info.traffic_class;
    }
    return std::nullopt;
}

// Builds a registry one pass at a time; a friend of TenantRegistry so the
// finished indexes go straight into it.
class TenantRegistryBuilder {
public:
    explicit TenantRegistryBuilder(std::string_view filename) : filename_(filename) {}

    Result<void> add_sections(const std::vector<IniSectionHeader>& sections);
    Result<void> apply(const IniEntry& entry);
    Result<void> check(std::size_t index) const;
    Result<void> index(std::size_t index);
    TenantRegistry take() { return std::move(registry_); }
    std::size_t size() const { return registry_.tenants_.size(); }

private:
    Error fail(std::size_t line, const Tenant& tenant, std::string_view reason) const {
        return make_error(ini_error(filename_, line, "tenant " + tenant.id + ": " + std::string(reason)));
    }
    // Line of key in tenant index, or of its [header] when the key is absent.
    std::size_t line_of(std::size_t index, std::string_view key) const {
        const auto& lines = key_lines_[index];
        const auto it = lines.find(key);
        return it == lines.end() ? registry_.tenants_[index].line : it->second;
    }
    bool has(std::size_t index, std::string_view key) const { return key_lines_[index].contains(key); }
    Result<void> set_field(Tenant& tenant, std::string_view key, std::string_view value);
    Result<void> index_domains(std::size_t index);
    Result<void> index_logins(std::size_t index);
    Result<void> index_tracking_domain(std::size_t index);
    Result<void> index_networks(std::size_t index);

    std::string filename_;
    TenantRegistry registry_;
    std::vector<TenantRegistry::Map<std::size_t>> key_lines_;  // per tenant: key -> line
};

Result<void> TenantRegistryBuilder::add_sections(const std::vector<IniSectionHeader>& sections) {
    for (const IniSectionHeader& section : sections) {
        if (!valid_tenant_id(section.name)) {
            return make_error(ini_error(filename_, section.line,
                                        "invalid tenant name " + in_quotes(section.name) +
                                            " (lower-case letters, digits, '_', '-'; at most 63; starting "
                                            "with a letter or digit)"));
        }
        if (const auto it = registry_.by_id_.find(section.name); it != registry_.by_id_.end()) {
            return make_error(ini_error(filename_, section.line,
                                        "tenant " + section.name + " defined twice (first at line " +
                                            std::to_string(registry_.tenants_[it->second].line) + ")"));
        }
        registry_.by_id_.emplace(section.name, registry_.tenants_.size());
        Tenant tenant;
        tenant.id = section.name;
        tenant.line = section.line;
        registry_.tenants_.push_back(std::move(tenant));
        key_lines_.emplace_back();
    }
    return {};
}

Result<void> TenantRegistryBuilder::apply(const IniEntry& entry) {
    const std::size_t index = registry_.by_id_.find(entry.section)->second;
    Tenant& tenant = registry_.tenants_[index];
    static const std::vector<std::string_view> known = known_keys();
    if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
        return fail(entry.line, tenant, "unknown key " + in_quotes(entry.key) + did_you_mean(entry.key, known));
    }
    if (has(index, entry.key)) {
        return fail(entry.line, tenant,
                    entry.key + " given twice (first at line " + std::to_string(line_of(index, entry.key)) + ")");
    }
    key_lines_[index].emplace(entry.key, entry.line);
    if (entry.value.empty()) {
        return fail(entry.line, tenant, entry.key + " has no value; remove the line to leave it unset");
    }
    if (auto set = set_field(tenant, entry.key, entry.value); !set) {
        return fail(entry.line, tenant, entry.key + ": " + set.error());
    }
    return {};
}

Result<void> TenantRegistryBuilder::set_field(Tenant& tenant, std::string_view key, std::string_view value) {
    auto store = [](auto& field, auto parsed) -> Result<void> {
        if (!parsed) return Error{parsed.error()};
        field = std::move(*parsed);
        return {};
    };
    if (key == "domains") {
        auto domains = parse_each<std::string>(value, normalise_domain);
        if (!domains) return Error{domains.error()};
        for (auto it = domains->begin(); it != domains->end(); ++it) {
            if (std::find(domains->begin(), it, *it) != it) return make_error(*it + " listed twice");
        }
        tenant.domains = std::move(*domains);
        return {};
    }
    if (key == "selector") return store(tenant.selector, parse_selector(value));
    if (key == "key") return store(tenant.key_path, parse_key_path(value));
    if (key == "ed25519_selector") return store(tenant.ed25519_selector, parse_selector(value));
    if (key == "ed25519_key") return store(tenant.ed25519_key_path, parse_key_path(value));
    if (key == "allow_rsa1024") return store(tenant.allow_rsa1024, parse_yes_no(value));
    if (key == "bounce_domain") return store(tenant.bounce_domain, normalise_domain(value));
    if (key == "sasl_users") {
        auto users = parse_each<SaslUser>(value, parse_sasl_user);
        if (!users) return Error{users.error()};
        for (auto it = users->begin(); it != users->end(); ++it) {
            const auto same = [&](const SaslUser& u) { return u.login == it->login; };
            if (std::any_of(users->begin(), it, same)) return make_error(in_quotes(it->login) + " listed twice");
        }
        tenant.sasl_users = std::move(*users);
        return {};
    }
    if (key == "networks") return store(tenant.networks, parse_each<Network>(value, parse_network));
    for (const TrafficClassInfo& info : kTrafficClasses) {
        const std::size_t c = traffic_class_index(info.traffic_class);
        if (key == info.rate_key) return store(tenant.rates[c], parse_rate_list(value));
        if (key == info.quota_key) return store(tenant.quotas[c], parse_quota_list(value));
        if (key == info.route_key) return store(tenant.routes[c], parse_transport_route(value));
    }
    if (key == "login_limits") return store(tenant.login_limits, parse_login_limits(value));
    if (key == "accepted_only") return store(tenant.accepted_only, parse_class_set(value));
    if (key == "time_zone") return store(tenant.time_zone, QuotaTimeZone::parse(value));
    if (key == "quota_month_start") return store(tenant.quota_month_start, parse_month_start(value));
    if (key == "pause_period") return store(tenant.pause.period, parse_pause_period(value));
    if (key == "pause_min_delivered") return store(tenant.pause.min_outcomes, parse_min_outcomes(value));
    if (key == "pause_bounce_rate") return store(tenant.pause.bounce_rate_ppm, parse_rate_threshold(value));
    if (key == "pause_complaint_rate") return store(tenant.pause.complaint_rate_ppm, parse_rate_threshold(value));
    if (key == "from_rewrite") return store(tenant.from_rewrite, parse_addr_spec(value));
    if (key == "webhook_url") return store(tenant.webhook_url, parse_webhook_url(value));
    if (key == "webhook_secret") return store(tenant.webhook_secret, parse_key_path(value));
    if (key == "tracking_domain") return store(tenant.tracking_domain, normalise_domain(value));
    if (key == "track_opens") return store(tenant.track_opens, parse_class_set(value));
    if (key == "track_clicks") return store(tenant.track_clicks, parse_class_set(value));
    if (key == "track_text_links") return store(tenant.track_text_links, parse_class_set(value));
    if (key == "list_unsubscribe") return store(tenant.list_unsubscribe, parse_class_set(value));
    if (key == "feedback_id") return store(tenant.feedback_id, parse_feedback_id(value));
    if (key == "smime") {
        auto senders = parse_each<SmimeSender>(value, parse_smime_sender);
        if (!senders) return Error{senders.error()};
        for (auto it = senders->begin(); it != senders->end(); ++it) {
            const auto same = [&](const SmimeSender& s) { return s.sender == it->sender; };
            if (std::any_of(senders->begin(), it, same)) return make_error(it->sender + " listed twice");
        }
        tenant.smime = std::move(*senders);
        return {};
    }
    if (key == "smime_classes") return store(tenant.smime_classes, parse_class_set(value));
    return make_error("key listed in known_keys() but not handled");  // a bug here, not in the file
}

// Rules for one tenant on its own; see conf/tenants.conf for the reasons.
Result<void> TenantRegistryBuilder::check(std::size_t index) const {
    const Tenant& t = registry_.tenants_[index];
    if (t.domains.empty()) return fail(t.line, t, "domains is required");
    if (t.selector.empty() != t.key_path.empty()) {
        const char* present = t.selector.empty() ? "key" : "selector";
        return fail(line_of(index, present), t, "selector and key go together; add the missing one");
    }
    if (t.ed25519_selector.empty() != t.ed25519_key_path.empty()) {
        const char* present = t.ed25519_selector.empty() ? "ed25519_key" : "ed25519_selector";
        return fail(line_of(index, present), t, "ed25519_selector and ed25519_key go together");
    }
    if (t.signs_ed25519() && !t.signs()) {
        return fail(line_of(index, "ed25519_key"), t,
                    "an Ed25519 signature needs an RSA one beside it (many receivers verify only RSA)");
    }
    if (t.signs_ed25519() && iequals(t.selector, t.ed25519_selector)) {
        return fail(line_of(index, "ed25519_selector"), t,
                    "ed25519_selector must differ from selector (the DNS records differ in k=)");
    }
    if (!t.signs() && t.from_rewrite.empty()) {
        return fail(t.line, t, "neither a DKIM key (selector, key) nor from_rewrite; its mail could not be signed");
    }
    if (t.signs() && t.bounce_domain.empty()) {
        return fail(t.line, t, "bounce_domain is required for a tenant that signs");
    }
    if (has(index, "allow_rsa1024") && !t.signs()) {
        return fail(line_of(index, "allow_rsa1024"), t, "allow_rsa1024 without an RSA key");
    }
    // An unsigned POST would let anyone who learns the URL forge events.
    if (!t.webhook_url.empty() && t.webhook_secret.empty()) {
        return fail(line_of(index, "webhook_url"), t,
                    "webhook_url needs webhook_secret (the file its POSTs are signed with)");
    }
    if (t.webhook_url.empty() && !t.webhook_secret.empty()) {
        return fail(line_of(index, "webhook_secret"), t, "webhook_secret without webhook_url");
    }
    for (const std::string_view key : kTrackingSwitches) {
        if (has(index, key) && t.tracking_domain.empty()) {
            return fail(line_of(index, key), t, std::string(key) + " without tracking_domain (tracking is off)");
        }
    }
    if (!t.tracking_domain.empty() && t.tracking_domain == t.bounce_domain) {
        return fail(line_of(index, "tracking_domain"), t, "tracking_domain must differ from bounce_domain");
    }
    for (const LoginLimit& entry : t.login_limits) {
        const auto same = [&](const SaslUser& user) { return user.login == entry.login; };
        if (std::none_of(t.sasl_users.begin(), t.sasl_users.end(), same)) {
            return fail(line_of(index, "login_limits"), t,
                        "login_limits: " + in_quotes(entry.login) + " is not one of the tenant's sasl_users");
        }
    }
    if (has(index, "smime_classes") && t.smime.empty()) {
        return fail(line_of(index, "smime_classes"), t, "smime_classes without smime (no certificate to sign with)");
    }
    // A certificate for a domain the tenant may not send from would never be used.
    for (const SmimeSender& entry : t.smime) {
        const std::string domain = entry.sender.substr(entry.sender.rfind('@') + 1);
        const bool own = std::any_of(t.domains.begin(), t.domains.end(), [&](const std::string& d) {
            return domain == d || (domain.size() > d.size() && domain.ends_with("." + d));
        });
        if (!own) {
            return fail(line_of(index, "smime"), t, "smime: " + entry.sender + " is not in the tenant's domains");
        }
    }
    return {};
}

Result<void> TenantRegistryBuilder::index(std::size_t index) {
    if (auto ok = index_domains(index); !ok) return ok;
    if (auto ok = index_logins(index); !ok) return ok;
    if (auto ok = index_tracking_domain(index); !ok) return ok;
    return index_networks(index);
}

Result<void> TenantRegistryBuilder::index_domains(std::size_t index) {
    const Tenant& tenant = registry_.tenants_[index];
    for (const std::string& domain : tenant.domains) {
        const auto [it, added] = registry_.by_domain_.emplace(domain, index);
        if (!added) {
            const Tenant& other = registry_.tenants_[it->second];
            return fail(line_of(index, "domains"), tenant,
                        "domain " + domain + " is already claimed by tenant " + other.id + " (line " +
                            std::to_string(line_of(it->second, "domains")) + ")");
        }
    }
    return {};
}

Result<void> TenantRegistryBuilder::index_logins(std::size_t index) {
    const Tenant& tenant = registry_.tenants_[index];
    for (const SaslUser& user : tenant.sasl_users) {
        const auto [it, added] = registry_.by_login_.emplace(user.login, std::pair{index, user.traffic_class});
        if (!added) {
            const std::size_t other = it->second.first;
            return fail(line_of(index, "sasl_users"), tenant,
                        "SASL user " + in_quotes(user.login) + " already belongs to tenant " +
                            registry_.tenants_[other].id + " (line " + std::to_string(line_of(other, "sasl_users")) +
                            ")");
        }
    }
    return {};
}

// trackd finds the tenant of a request by its Host: one tenant per host.
Result<void> TenantRegistryBuilder::index_tracking_domain(std::size_t index) {
    const Tenant& tenant = registry_.tenants_[index];
    if (tenant.tracking_domain.empty()) return {};
    const auto [it, added] = registry_.by_tracking_domain_.emplace(tenant.tracking_domain, index);
    if (added) return {};
    const std::size_t other = it->second;
    return fail(line_of(index, "tracking_domain"), tenant,
                "tracking_domain " + tenant.tracking_domain + " is already tenant " + registry_.tenants_[other].id +
                    "'s (line " + std::to_string(line_of(other, "tracking_domain")) + ")");
}

// Overlapping blocks of different tenants would make the client address
// ambiguous; within one tenant they are merely redundant.
Result<void> TenantRegistryBuilder::index_networks(std::size_t index) {
    const Tenant& tenant = registry_.tenants_[index];
    for (const Network& network : tenant.networks) {
        for (const auto& [other_network, other] : registry_.networks_) {
            if (other != index && network.overlaps(other_network)) {
                return fail(line_of(index, "networks"), tenant,
                            "network " + network.to_string() + " overlaps " + other_network.to_string() +
                                " of tenant " + registry_.tenants_[other].id + " (line " +
                                std::to_string(line_of(other, "networks")) + ")");
            }
        }
    }
    for (const Network& network : tenant.networks) registry_.networks_.emplace_back(network, index);
    return {};
}

namespace {

Result<TenantRegistry> build_registry(const IniFile& ini) {
    TenantRegistryBuilder builder(ini.filename);
    if (auto ok = builder.add_sections(ini.sections); !ok) return Error{ok.error()};
    for (const IniEntry& entry : ini.entries) {
        if (auto ok = builder.apply(entry); !ok) return Error{ok.error()};
    }
    for (std::size_t i = 0; i < builder.size(); ++i) {
        if (auto ok = builder.check(i); !ok) return Error{ok.error()};
    }
    for (std::size_t i = 0; i < builder.size(); ++i) {
        if (auto ok = builder.index(i); !ok) return Error{ok.error()};
    }
    return builder.take();
}

}  // namespace

Result<TenantRegistry> TenantRegistry::parse(std::string_view text, std::string_view filename) {
    auto ini = parse_ini(text, filename);
    if (!ini) return Error{ini.error()};
    return build_registry(*ini);
}

Result<TenantRegistry> TenantRegistry::load_file(const std::string& path) {
    auto ini = read_ini_file(path);
    if (!ini) return Error{ini.error()};
    return build_registry(*ini);
}

const Tenant* TenantRegistry::find(std::string_view id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tenants_[it->second];
}

std::optional<TenantMatch> TenantRegistry::by_sasl_user(std::string_view login) const {
    const auto it = by_login_.find(login);
    if (it == by_login_.end()) return std::nullopt;
    return TenantMatch{&tenants_[it->second.first], it->second.second};
}

std::optional<TenantMatch> TenantRegistry::identify(std::string_view login, std::string_view client_address) const {
    std::optional<TenantMatch> match;
    if (!login.empty()) match = by_sasl_user(login);
    if (!match && !client_address.empty()) match = by_client_address(client_address);
    return match;
}

std::optional<TenantMatch> TenantRegistry::by_client_address(std::string_view address_text) const {
    const auto address = IpAddress::parse(trim(address_text));
    if (!address) return std::nullopt;
    return by_client_address(*address);
}

std::optional<TenantMatch> TenantRegistry::by_client_address(const IpAddress& address) const {
    for (const auto& [network, index] : networks_) {
        if (network.contains(address)) return TenantMatch{&tenants_[index], TrafficClass::bulk};
    }
    return std::nullopt;
}

const Tenant* TenantRegistry::by_tracking_domain(std::string_view host) const {
    const auto normal = normalise_domain(host);
    if (!normal) return nullptr;
    const auto it = by_tracking_domain_.find(*normal);
    return it == by_tracking_domain_.end() ? nullptr : &tenants_[it->second];
}

const Tenant* TenantRegistry::domain_owner(std::string_view domain) const {
    // Validating first matters: "x..careers.uni.ac.uk" must not match
    // careers.uni.ac.uk by walking up past an empty label.
    const auto normal = normalise_domain(domain);
    if (!normal) return nullptr;
    std::string_view candidate = *normal;
    for (;;) {
        if (const auto it = by_domain_.find(candidate); it != by_domain_.end()) return &tenants_[it->second];
        const std::size_t dot = candidate.find('.');
        if (dot == std::string_view::npos) return nullptr;
        candidate.remove_prefix(dot + 1);
    }
}

bool TenantRegistry::may_send_as(const Tenant& tenant, std::string_view domain) const {
    const Tenant* owner = domain_owner(domain);
    return owner != nullptr && owner->id == tenant.id;
}

}  // namespace tenantmail
