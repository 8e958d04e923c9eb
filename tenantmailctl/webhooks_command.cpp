// webhooks_command.cpp — `tenantmailctl webhooks dead list TENANT [--json]`
// and `tenantmailctl webhooks dead replay TENANT ENTRY_ID|--all`: the event
// batches tenantmail-webhookd gave up on after webhookd.retry_for, kept in
// tm:{TENANT}:events:dead (format in common/dead_letter.h). Replay appends
// the batch's events, with their original event ids, to tm:{TENANT}:events
// and deletes the dead entry in one Lua script; the dispatcher then delivers
// them like new events (so the receiver can recognise the ids it has seen).
// Listing pages through the stream with XRANGE, so a long list does not
// stall Redis.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/dead_letter.h"
#include "common/events.h"
#include "common/redis_value.h"
#include "common/text.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "tenantmailctl webhooks: %s\n", message.c_str());
    return 1;
}

std::string format_time(std::int64_t seconds) {
    if (seconds <= 0) return "-";
    const std::time_t time = static_cast<std::time_t>(seconds);
    std::tm utc{};
    ::gmtime_r(&time, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

// Entries of the dead-letter stream from start (inclusive) on, at most count.
Result<std::vector<StreamEntry>> read_range(RedisClient& client, const std::string& key,
                                        const std::string& start, const std::string& end,
                                        std::size_t count) {
    auto reply = client.call({"XRANGE", key, start, end, "COUNT", std::to_string(count)});
    if (!reply) return Error{reply.error()};
    if (reply->type == RespValue::Type::error) return make_error("Redis at " + client.where() + ": " + reply->text);
    return parse_range_reply(*reply);
}

// Every dead letter, oldest first, one page of XRANGE at a time.
Result<std::vector<DeadLetter>> read_all(RedisClient& client, const std::string& tenant) {
    const std::string key = dead_letter_key(tenant);
    std::vector<DeadLetter> letters;
    std::string start = "-";
    for (;;) {
        auto page = read_range(client, key, start, "+", 500);
        if (!page) return Error{page.error()};
        for (const auto& entry : *page) {
            auto letter = parse_dead_letter(entry);
            if (!letter) return Error{letter.error()};
            letters.push_back(std::move(*letter));
        }
        if (page->size() < 500) return letters;
        start = "(" + page->back().id;  // exclusive: after the last one read
    }
}

std::size_t event_count(const DeadLetter& letter) {
    auto events = parse_events_document(letter.document);
    return events ? events->size() : 0;
}

int list(RedisClient& client, const std::string& tenant, bool json) {
    auto letters = read_all(client, tenant);
    if (!letters) return fail(letters.error());
    if (json) {
        nlohmann::json items = nlohmann::json::array();
        for (const DeadLetter& letter : *letters) {
            auto document = nlohmann::json::parse(letter.document, nullptr, false);
            items.push_back({{"id", letter.id},
                             {"time", letter.time},
                             {"attempts", letter.attempts},
                             {"error", letter.error},
                             {"entries", letter.entries},
                             {"events", document.is_object() && document.contains("events") ? document["events"]
                                                                                             : nlohmann::json::array()}});
        }
        const nlohmann::json out = {{"tenant", tenant}, {"stream", dead_letter_key(tenant)},
                                    {"dead_letters", items}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    for (const DeadLetter& letter : *letters) {
        std::printf("%s\t%s\t%zu events\t%llu attempts\t%s\n", letter.id.c_str(), format_time(letter.time).c_str(),
                    event_count(letter), static_cast<unsigned long long>(letter.attempts),
                    terminal_cell(letter.error, 200).c_str());
    }
    if (letters->empty()) std::fprintf(stderr, "%s: no dead letters\n", tenant.c_str());
    return 0;
}

// 0 replayed, 1 failed; "already" when another admin replayed it first.
int replay_one(RedisClient& client, const std::string& tenant, const DeadLetter& letter) {
    auto events = parse_events_document(letter.document);
    if (!events) return fail("dead letter " + letter.id + ": " + events.error());
    auto reply = client.command(build_replay_eval(tenant, letter.id, *events));
    if (!reply) return fail(reply.error());
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_INTEGER) return fail("unexpected reply from Redis to the replay script");
    if (r->integer < 0) {
        std::printf("%s: dead letter %s was already replayed or deleted\n", tenant.c_str(), letter.id.c_str());
        return 0;
    }
    std::printf("%s: dead letter %s replayed: %lld events queued in %s\n", tenant.c_str(), letter.id.c_str(),
                r->integer, events_stream_key(tenant).c_str());
    return 0;
}

int replay(RedisClient& client, const std::string& tenant, const std::string& entry_id, bool all) {
    std::vector<DeadLetter> letters;
    if (all) {
        auto every = read_all(client, tenant);
        if (!every) return fail(every.error());
        letters = std::move(*every);
        if (letters.empty()) std::fprintf(stderr, "%s: no dead letters\n", tenant.c_str());
    } else {
        auto found = read_range(client, dead_letter_key(tenant), entry_id, entry_id, 1);
        if (!found) return fail(found.error());
        if (found->empty()) return fail("tenant " + tenant + " has no dead letter " + entry_id);
        auto letter = parse_dead_letter(found->front());
        if (!letter) return fail(letter.error());
        letters.push_back(std::move(*letter));
    }
    int status = 0;
    for (const DeadLetter& letter : letters) status = std::max(status, replay_one(client, tenant, letter));
    return status;
}

}  // namespace

int run_webhooks(const Args& args) {
    po::options_description desc(
        "tenantmailctl webhooks dead list TENANT [--json]\n"
        "tenantmailctl webhooks dead replay TENANT ENTRY_ID|--all\n"
        "  event batches tenantmail-webhookd gave up on (tm:{TENANT}:events:dead)");
    std::string area;
    std::string action;
    std::string tenant_id;
    std::string entry_id;
    desc.add_options()
        ("help,h", "show this help")
        ("area", po::value(&area)->required(), "dead")
        ("action", po::value(&action)->required(), "list or replay")
        ("tenant", po::value(&tenant_id)->required(), "tenant id")
        ("entry", po::value(&entry_id), "dead letter id, as list shows it (replay)")
        ("all", po::bool_switch(), "replay every dead letter of the tenant")
        ("json", po::bool_switch(), "print JSON (list)");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("area", 1).add("action", 1).add("tenant", 1).add("entry", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    if (area != "dead") {
        std::fprintf(stderr, "tenantmailctl webhooks: unknown subcommand \"%s\" (dead)\n", area.c_str());
        return 2;
    }
    if (action != "list" && action != "replay") {
        std::fprintf(stderr, "tenantmailctl webhooks dead: unknown action \"%s\" (list or replay)\n", action.c_str());
        return 2;
    }
    const bool all = vm["all"].as<bool>();
    if (action == "replay" && all == !entry_id.empty()) {
        std::fprintf(stderr, "tenantmailctl webhooks dead replay: give either an ENTRY_ID or --all\n");
        return 2;
    }
    if (action == "list" && (all || !entry_id.empty())) {
        std::fprintf(stderr, "tenantmailctl webhooks dead list: takes only TENANT\n");
        return 2;
    }
    auto tenant = find_ctl_tenant(vm, tenant_id);
    if (!tenant) return fail(tenant.error());
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());
    if (action == "list") return list(*client, tenant->id, vm["json"].as<bool>());
    return replay(*client, tenant->id, entry_id, all);
}

}  // namespace tenantmail::ctl
