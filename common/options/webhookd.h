// options/webhookd.h — the [webhookd] options of tenantmail.conf (and their
// command-line forms), typed, with the checks that span several options
// (retry_min_delay <= retry_max_delay, claim_after > http_timeout, ...). Declared
// once here so --help, the config file reader, tenantmailctl check-config
// and conf/tenantmail.conf agree. Pure: no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"
#include "common/result.h"
#include "common/destination_policy.h"

namespace tenantmail::webhookd {

inline constexpr const char* kDefaultGroup = "tenantmail-webhookd";

struct WebhookSettings {
    CommonSettings common;
    std::string group = kDefaultGroup;  // Redis consumer group shared by every dispatcher
    std::string consumer;               // this dispatcher's name in the group; "" = hostname:pid
    std::size_t max_batch = 100;        // events per POST (webhookd.batch_limit) (and per XREADGROUP COUNT)
    std::chrono::milliseconds block{std::chrono::seconds(5)};           // XREADGROUP BLOCK
    // Redis Cluster mode: how often idle tenants' streams are read (one
    // blocking read cannot span the slots of many tenants).
    std::chrono::milliseconds cluster_poll_interval{100};
    std::chrono::milliseconds claim_after{std::chrono::seconds(60)};    // take over a silent consumer's entries
    std::chrono::milliseconds retry_initial{std::chrono::seconds(10)};  // retry_min_delay: first backoff, doubled per attempt
    std::chrono::milliseconds retry_max{std::chrono::hours(1)};         // retry_max_delay: backoff cap
    std::chrono::milliseconds retry_for{std::chrono::hours(24)};        // then the batch is a dead letter
    std::chrono::milliseconds http_timeout{std::chrono::seconds(15)};   // whole POST
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
    DestinationPolicy destinations;  // https only, no special-purpose addresses, unless the admin widens it
    std::string pidfile;  // "" for none
    std::string user;     // drop to this user after reading the secrets; "" keeps the current one
    bool foreground = false;
    std::string metrics_listen;  // "" for no metrics
};

// A positive whole number with an upper bound, reported at its file:line.
struct BatchSizeOption {
    std::size_t value = 100;  // 1..10000
};
void validate(boost::any& out, const std::vector<std::string>& values, BatchSizeOption*, int);

// CIDR blocks separated by spaces or commas ("10.1.2.0/24, fd00::/8"); ""
// for none. A bad block is reported at its file:line.
struct NetworkListOption {
    std::vector<Network> value;
};
void validate(boost::any& out, const std::vector<std::string>& values, NetworkListOption*, int);

// Only the webhookd.* options, without short forms: the [webhookd] entry of
// common/options/sections.h.
void add_webhookd_section_options(boost::program_options::options_description& desc);
// Everything tenantmail-webhookd accepts: the common options, -f and
// [webhookd].
void add_webhookd_options(boost::program_options::options_description& desc, const std::string& default_config);

// The typed settings; fails when options contradict each other, with a
// message naming them.
Result<WebhookSettings> webhook_settings(const LoadedConfig& config);
Result<void> check_webhook_settings(const WebhookSettings& settings);

// Group and consumer names go into Redis commands and log lines: printable
// ASCII without spaces, at most 200 characters.
bool valid_redis_name(const std::string& name);

}  // namespace tenantmail::webhookd
