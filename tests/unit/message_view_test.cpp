// message_view_test.cpp — tenantmailctl's message views: status summary and
// filters, error column, --since, table/detail/JSON, postqueue -j parsing
// and the outbox join's filter and rendering.
#include "tenantmailctl/message_view.h"

#include <gtest/gtest.h>

#include "tenantmailctl/outbox_view.h"
#include "tenantmailctl/postfix_queue.h"

namespace tenantmail::ctl {
namespace {

RecipientState recipient(std::string address, RecipientStatus status, std::string reply = "") {
    RecipientState state = queued_recipient(std::move(address), 1700000000);
    if (status != RecipientStatus::queued) {
        state.status = status;
        state.reply = std::move(reply);
        state.time = 1700000060;
        state.history.push_back({status, state.reply, 1700000060});
    }
    return state;
}

StoredMessage sample_message() {
    StoredMessage m;
    m.record.queue_id = "4F1C2A0B3D";
    m.record.tenant = "acme";
    m.record.traffic_class = "bulk";
    m.record.message_id = "<m1@acme.example>";
    m.record.mail_from = "alice@acme.example";
    m.record.bounce_address = "bounces+abc@mta.acme.example";
    m.record.header_from = "\"Alice Example\" <alice@acme.example>";
    m.record.header_to = "bob@example.org";
    m.record.subject = "Fair on Friday";
    m.record.time = 1700000000;
    m.recipients = {recipient("bob@example.org", RecipientStatus::delivered, "250 2.0.0 Ok: queued as X"),
                    recipient("gone@example.org", RecipientStatus::bounced, "550 5.1.1 user unknown")};
    return m;
}

TEST(MessageView, StatusIsFailedBeforeDeferredBeforeSent) {
    using S = RecipientStatus;
    EXPECT_EQ(summarise({recipient("a", S::delivered), recipient("b", S::delivered)}), MessageStatus::sent);
    EXPECT_EQ(summarise({recipient("a", S::delivered), recipient("b", S::deferred)}), MessageStatus::deferred);
    EXPECT_EQ(summarise({recipient("a", S::deferred), recipient("b", S::bounced)}), MessageStatus::failed);
    EXPECT_EQ(summarise({recipient("a", S::complained)}), MessageStatus::failed);
    EXPECT_EQ(summarise({recipient("a", S::blocked)}), MessageStatus::failed);
    EXPECT_EQ(summarise({recipient("a", S::delivered), recipient("b", S::queued)}), MessageStatus::queued);
    EXPECT_EQ(summarise({}), MessageStatus::queued);
}

TEST(MessageView, FiltersMatchAnyFailedOrDeferredAndAllDelivered) {
    using S = RecipientStatus;
    const std::vector<RecipientState> mixed = {recipient("a", S::deferred), recipient("b", S::bounced)};
    EXPECT_TRUE(matches_status(mixed, MessageStatus::failed));
    EXPECT_TRUE(matches_status(mixed, MessageStatus::deferred));
    EXPECT_FALSE(matches_status(mixed, MessageStatus::sent));
    const std::vector<RecipientState> half = {recipient("a", S::delivered), recipient("b", S::queued)};
    EXPECT_FALSE(matches_status(half, MessageStatus::sent));
    EXPECT_TRUE(matches_status({recipient("a", S::delivered)}, MessageStatus::sent));
    EXPECT_EQ(parse_status_filter("failed"), MessageStatus::failed);
    EXPECT_EQ(parse_status_filter("sent"), MessageStatus::sent);
    EXPECT_EQ(parse_status_filter("deferred"), MessageStatus::deferred);
    EXPECT_FALSE(parse_status_filter("queued").has_value());
    EXPECT_FALSE(parse_status_filter("Sent").has_value());
}

TEST(MessageView, ErrorNamesTheFirstFailedRecipientAndCountsTheOthers) {
    using S = RecipientStatus;
    EXPECT_EQ(message_error({recipient("a@x", S::delivered)}), "");
    EXPECT_EQ(message_error({recipient("a@x", S::deferred, "451 4.7.1 greylisted"), recipient("b@x", S::bounced, "550 5.1.1 no")}),
              "b@x: 550 5.1.1 no");
    EXPECT_EQ(message_error({recipient("a@x", S::bounced, "550 a"), recipient("b@x", S::blocked, "")}),
              "a@x: 550 a (+1 more)");
    EXPECT_EQ(message_error({recipient("b@x", S::blocked, "")}), "b@x: blocked");
    EXPECT_EQ(message_error({recipient("a@x", S::deferred, "451 4.4.1 timeout")}), "a@x: 451 4.4.1 timeout");
}

TEST(MessageView, SinceTakesDurationsBackFromNowAndUtcDates) {
    EXPECT_EQ(*parse_since("90m", 1700000000), 1700000000 - 5400);
    EXPECT_EQ(*parse_since("2d", 1700000000), 1700000000 - 2 * 86400);
    EXPECT_EQ(*parse_since("2023-11-14", 0), 1699920000);
    EXPECT_EQ(*parse_since("2023-11-14T22:13", 0), 1699999980);
    EXPECT_EQ(*parse_since("2023-11-14 22:13:20", 0), 1700000000);
    EXPECT_EQ(*parse_since("2023-11-14T22:13:20Z", 0), 1700000000);
    for (const char* bad : {"", "yesterday", "2023-13-01", "2023-11-14T25:00", "2023-11-14x", "-5m", "2023-1-4"}) {
        const auto since = parse_since(bad, 1700000000);
        EXPECT_FALSE(since.ok()) << bad;
    }
    EXPECT_NE(parse_since("soon", 0).error().find("\"soon\""), std::string::npos);
}

TEST(MessageView, TimesAreUtc) {
    EXPECT_EQ(format_time(1700000000), "2023-11-14 22:13:20");
    EXPECT_EQ(format_time(0), "1970-01-01 00:00:00");
}

TEST(MessageView, FromIsTheHeaderAddressElseTheEnvelopeSender) {
    MessageRecord record;
    record.mail_from = "env@acme.example";
    EXPECT_EQ(display_from(record), "env@acme.example");
    record.header_from = "\"Alice\" <Alice@ACME.example>";
    EXPECT_EQ(display_from(record), "Alice@acme.example");
    record.header_from = "not an address";
    EXPECT_EQ(display_from(record), "not an address");
}

TEST(MessageView, CellsEscapeControlsAndCutAtUtf8Boundaries) {
    EXPECT_EQ(cell("a\tb\nc", 20), "a\\x09b\\x0ac");
    EXPECT_EQ(cell("\x1b[2J", 20), "\\x1b[2J");
    EXPECT_EQ(cell("abcdefghij", 10), "abcdefghij");
    EXPECT_EQ(cell("abcdefghijk", 10), "abcdefg...");
    // "ééé" is 6 bytes; a cut at 4+3 would split the third é.
    EXPECT_EQ(cell("xxxxééé", 8), "xxxx...");
}

TEST(MessageView, TableColumnsAlignAndTrailingSpaceIsTrimmed) {
    const std::string table = render_table({"A", "BB"}, {{"xxx", "1"}, {"y", ""}});
    EXPECT_EQ(table, "A    BB\nxxx  1\ny\n");
}

TEST(MessageView, MessagesTableHasOneRowPerMessageWithStatusAndError) {
    const std::string table = messages_table({sample_message()});
    EXPECT_EQ(table.rfind("TIME (UTC)", 0), 0u);
    for (const char* column : {"QUEUE ID", "TENANT", "FROM", "SUBJECT", "STATUS", "ERROR"})
        EXPECT_NE(table.find(column), std::string::npos) << column;
    const std::string row = table.substr(table.find('\n') + 1);
    for (const char* text : {"2023-11-14 22:13:20", "4F1C2A0B3D", "acme", "alice@acme.example", "Fair on Friday",
                             "failed", "gone@example.org: 550 5.1.1 user unknown"})
        EXPECT_NE(row.find(text), std::string::npos) << text << " in " << row;
}

TEST(MessageView, MessageJsonHasTheRecordStatusErrorAndRecipients) {
    const auto json = message_json(sample_message(), false);
    EXPECT_EQ(json["queue_id"], "4F1C2A0B3D");
    EXPECT_EQ(json["tenant"], "acme");
    EXPECT_EQ(json["time"], 1700000000);
    EXPECT_EQ(json["class"], "bulk");
    EXPECT_EQ(json["message_id"], "<m1@acme.example>");
    EXPECT_EQ(json["bounce_address"], "bounces+abc@mta.acme.example");
    EXPECT_EQ(json["status"], "failed");
    EXPECT_EQ(json["error"], "gone@example.org: 550 5.1.1 user unknown");
    ASSERT_EQ(json["recipients"].size(), 2u);
    EXPECT_EQ(json["recipients"][1]["status"], "bounced");
    EXPECT_FALSE(json["recipients"][1].contains("history"));
    const auto detailed = message_json(sample_message(), true);
    ASSERT_EQ(detailed["recipients"][1]["history"].size(), 2u);
    EXPECT_EQ(detailed["recipients"][1]["history"][0]["status"], "queued");
    EXPECT_EQ(detailed["recipients"][1]["history"][1]["reply"], "550 5.1.1 user unknown");
}

TEST(MessageView, DetailsListEveryFieldAndEachRecipientsHistory) {
    const std::string text = message_details(sample_message());
    for (const char* line : {"queue id:        4F1C2A0B3D\n", "tenant:          acme (bulk)\n",
                             "time:            2023-11-14 22:13:20 UTC\n", "subject:         Fair on Friday\n",
                             "status:          failed\n", "  gone@example.org  bounced\n",
                             "    2023-11-14 22:13:20  queued\n",
                             "    2023-11-14 22:14:20  bounced     550 5.1.1 user unknown\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
}

constexpr std::string_view kPostqueueOutput =
    R"({"queue_name": "deferred", "queue_id": "4F1C2A0B3D", "arrival_time": 1700000000, "message_size": 1234, "forced_expire": false, "sender": "bounces+abc@mta.acme.example", "recipients": [{"address": "gone@example.org", "delay_reason": "connect to example.org[192.0.2.1]:25: Connection refused"}]})"
    "\n"
    R"({"queue_name": "active", "queue_id": "9A8B7C6D5E", "arrival_time": 1700000100, "message_size": 900, "forced_expire": false, "sender": "", "recipients": [{"address": "a@example.net"}, {"address": "b@example.net"}]})"
    "\n";

TEST(PostfixQueue, ParsesPostqueueJsonLines) {
    auto entries = parse_postqueue_json(kPostqueueOutput);
    ASSERT_TRUE(entries.ok()) << entries.error();
    ASSERT_EQ(entries->size(), 2u);
    const QueueEntry& first = (*entries)[0];
    EXPECT_EQ(first.queue_name, "deferred");
    EXPECT_EQ(first.queue_id, "4F1C2A0B3D");
    EXPECT_EQ(first.arrival_time, 1700000000);
    EXPECT_EQ(first.message_size, 1234);
    EXPECT_EQ(first.sender, "bounces+abc@mta.acme.example");
    ASSERT_EQ(first.recipients.size(), 1u);
    EXPECT_EQ(first.recipients[0].delay_reason, "connect to example.org[192.0.2.1]:25: Connection refused");
    EXPECT_EQ((*entries)[1].recipients.size(), 2u);
    EXPECT_EQ((*entries)[1].recipients[1].delay_reason, "");
    EXPECT_TRUE(parse_postqueue_json("").ok());
    EXPECT_TRUE(parse_postqueue_json("")->empty());
}

TEST(PostfixQueue, ABadLineIsAnErrorNamingTheLine) {
    const std::string text = std::string(kPostqueueOutput) + "Mail queue is empty\n";
    auto entries = parse_postqueue_json(text);
    ASSERT_FALSE(entries.ok());
    EXPECT_NE(entries.error().find("line 3"), std::string::npos) << entries.error();
    EXPECT_FALSE(parse_postqueue_json(R"({"queue_name":"active"})").ok());
}

TEST(PostfixQueue, CommandsAreSplitOnSpacesWithoutAShell) {
    EXPECT_EQ(postqueue_command(""), (std::vector<std::string>{"postqueue", "-j"}));
    EXPECT_EQ(postqueue_command("/etc/postfix-out"), (std::vector<std::string>{"postqueue", "-c", "/etc/postfix-out", "-j"}));
    EXPECT_EQ(split_command("  /usr/sbin/postqueue  -c /tmp/x\t-j "),
              (std::vector<std::string>{"/usr/sbin/postqueue", "-c", "/tmp/x", "-j"}));
}

TEST(PostfixQueue, RunCommandReturnsOutputAndFailsOnNonZeroExit) {
    auto out = run_command({"sh", "-c", "printf 'a\\nb'"});
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(*out, "a\nb");
    auto failed = run_command({"sh", "-c", "exit 3"});
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.error().find("exit status 3"), std::string::npos) << failed.error();
    EXPECT_FALSE(run_command({"/nonexistent/postqueue", "-j"}).ok());
}

std::vector<OutboxEntry> sample_outbox() {
    auto queued = parse_postqueue_json(kPostqueueOutput);
    std::vector<OutboxEntry> entries(2);
    entries[0].queued = (*queued)[0];
    entries[0].tenant = "acme";
    entries[0].subject = "Fair on Friday";
    entries[1].queued = (*queued)[1];
    return entries;
}

TEST(OutboxView, TenantFilterDropsOtherTenantsAndMailWithoutRecord) {
    EXPECT_EQ(filter_outbox(sample_outbox(), "").size(), 2u);
    const auto acme = filter_outbox(sample_outbox(), "acme");
    ASSERT_EQ(acme.size(), 1u);
    EXPECT_EQ(acme[0].queued.queue_id, "4F1C2A0B3D");
    EXPECT_TRUE(filter_outbox(sample_outbox(), "beta").empty());
}

TEST(OutboxView, TableShowsTenantSubjectAndDelayReason) {
    const std::string table = outbox_table(sample_outbox());
    const auto lines_start = table.find('\n') + 1;
    const std::string first = table.substr(lines_start, table.find('\n', lines_start) - lines_start);
    for (const char* text : {"2023-11-14 22:13:20", "4F1C2A0B3D", "deferred", "acme", "gone@example.org",
                             "Fair on Friday", "Connection refused"})
        EXPECT_NE(first.find(text), std::string::npos) << text << " in " << first;
    const std::string second = table.substr(table.find('\n', lines_start) + 1);
    EXPECT_NE(second.find("a@example.net (+1)"), std::string::npos) << second;
    EXPECT_NE(second.find("<>"), std::string::npos) << second;
}

TEST(OutboxView, JsonHasNullTenantForMailWithoutRecord) {
    const auto json = outbox_json(sample_outbox());
    ASSERT_EQ(json["outbox"].size(), 2u);
    EXPECT_EQ(json["outbox"][0]["tenant"], "acme");
    EXPECT_EQ(json["outbox"][0]["subject"], "Fair on Friday");
    EXPECT_EQ(json["outbox"][0]["recipients"][0]["address"], "gone@example.org");
    EXPECT_TRUE(json["outbox"][1]["tenant"].is_null());
    EXPECT_EQ(json["outbox"][1]["queue_name"], "active");
}

}  // namespace
}  // namespace tenantmail::ctl

namespace tenantmail::ctl {
namespace {

TEST(MessageView, EngagementListsOpensClicksAndUnsubscribesWithUrlAndFlags) {
    Event open = make_event(EventKind::open, "acme", "jane@example.org");
    open.timestamp = 1795400000;
    open.details = {{"automated", "image_proxy"}};
    Event click = make_event(EventKind::click, "acme", "jane@example.org");
    click.timestamp = 1795400060;
    click.details = {{"url", "https://uni.example/jobs\x1b[2J"}};
    Event bounce = make_event(EventKind::bounce, "acme", "jane@example.org");
    Event unsubscribe = make_event(EventKind::unsubscribe, "acme", "jane@example.org");
    unsubscribe.timestamp = 1795400120;
    const std::string text = engagement_details({open, click, bounce, unsubscribe});
    EXPECT_EQ(text,
              "opens, clicks and unsubscribes:\n"
              "  2026-11-23 02:13:20  open        jane@example.org  (image_proxy)\n"
              "  2026-11-23 02:14:20  click       jane@example.org  https://uni.example/jobs\\x1b[2J\n"
              "  2026-11-23 02:15:20  unsubscribe jane@example.org\n");
    EXPECT_EQ(engagement_details({bounce}), "");
}

}  // namespace
}  // namespace tenantmail::ctl
