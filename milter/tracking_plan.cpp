#include "milter/tracking_plan.h"

#include <algorithm>

#include "common/recipient.h"
#include "common/text.h"
#include "common/unsubscribe_address.h"

namespace tenantmail::milter {
namespace {

std::string only_recipient(const TrackingContext& context) {
    return context.recipients.size() == 1 ? normalise_recipient(context.recipients.front()) : std::string();
}

std::optional<std::string> token(const TrackingContext& context, TrackingLinkKind kind, std::string_view target) {
    if (context.codec == nullptr || context.tenant == nullptr) return std::nullopt;
    TrackingLink link{kind, context.tenant->id, context.queue_id, only_recipient(context), std::string(target),
                      context.now};
    auto encoded = context.codec->encode(link);
    if (!encoded) return std::nullopt;  // a field or URL too long for a token: that link stays as it was
    return std::move(encoded).value();
}

}  // namespace

std::string tracking_url(const TrackingContext& context, TrackingLinkKind kind, std::string_view target) {
    const auto encoded = token(context, kind, target);
    if (!encoded) return std::string();
    return "https://" + context.tenant->tracking_domain + "/" + std::string(tracking_path_letter(kind)) + "/" + *encoded;
}

bool tracks_html(const TrackingContext& context) {
    if (context.codec == nullptr || context.tenant == nullptr) return false;
    return context.tenant->tracks_opens(context.traffic_class) || context.tenant->tracks_clicks(context.traffic_class);
}

bool tracks_text_links(const TrackingContext& context) {
    return context.codec != nullptr && context.tenant != nullptr &&
           context.tenant->tracks_text_links(context.traffic_class);
}

HtmlTracker html_tracker(const TrackingContext& context, std::vector<std::string> leave_alone) {
    HtmlTracker tracker;
    if (context.codec == nullptr || context.tenant == nullptr) return tracker;
    if (context.tenant->tracks_opens(context.traffic_class)) {
        tracker.pixel_url = tracking_url(context, TrackingLinkKind::open);
    }
    if (context.tenant->tracks_clicks(context.traffic_class)) {
        tracker.click_link = [context, leave_alone = std::move(leave_alone)](
                                 std::string_view url) -> std::optional<std::string> {
            if (std::find(leave_alone.begin(), leave_alone.end(), url) != leave_alone.end()) return std::nullopt;
            std::string link = tracking_url(context, TrackingLinkKind::click, url);
            if (link.empty()) return std::nullopt;
            return link;
        };
    }
    return tracker;
}

std::optional<std::string> list_unsubscribe_value(const TrackingContext& context) {
    if (context.tenant == nullptr || !context.tenant->adds_list_unsubscribe(context.traffic_class)) return std::nullopt;
    if (context.recipients.size() != 1) return std::nullopt;
    const auto encoded = token(context, TrackingLinkKind::unsubscribe, {});
    if (!encoded) return std::nullopt;
    std::string value = " <https://" + context.tenant->tracking_domain + "/u/" + *encoded + ">";
    if (!context.bounce_domain.empty()) {
        value += ",\r\n <mailto:" + make_unsubscribe_address(*encoded, context.bounce_domain) + ">";
    }
    return value;
}

std::optional<std::string> feedback_id_value(const Tenant& tenant, TrafficClass traffic_class) {
    if (tenant.feedback_id.empty()) return std::nullopt;
    return " " + std::string(to_string(traffic_class)) + ":" + tenant.id + ":" + tenant.feedback_id;
}

std::vector<std::string> list_unsubscribe_urls(std::string_view value) {
    std::vector<std::string> urls;
    for (std::size_t open = value.find('<'); open != std::string_view::npos; open = value.find('<', open + 1)) {
        const std::size_t close = value.find('>', open + 1);
        if (close == std::string_view::npos) break;
        std::string url(trim(value.substr(open + 1, close - open - 1)));
        const std::string lower = to_lower(url);
        if (lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0) urls.push_back(std::move(url));
        open = close;
    }
    return urls;
}

}  // namespace tenantmail::milter
