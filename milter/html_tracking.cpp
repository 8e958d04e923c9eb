#include "milter/html_tracking.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "common/text.h"

namespace tenantmail::milter {
namespace {

struct GumboOutputFree {
    void operator()(GumboOutput* output) const { gumbo_destroy_output(&kGumboDefaultOptions, output); }
};
using GumboOutputPtr = std::unique_ptr<GumboOutput, GumboOutputFree>;

// One replacement of original bytes: [offset, offset + length) -> text.
struct Splice {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::string text;
};

bool is_void_element(std::string_view name) {
    static constexpr std::array<std::string_view, 14> voids = {"area", "base", "br",    "col",   "embed",
                                                                "hr",   "img",  "input", "link",  "meta",
                                                                "param", "source", "track", "wbr"};
    for (std::string_view v : voids) {
        if (iequals(name, v)) return true;
    }
    return false;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ':';
}

// An upper bound of the element nesting gumbo will build: open tags minus
// close tags, void and self-closed ones not counted, comments skipped.
std::size_t estimated_nesting(std::string_view html) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    for (std::size_t i = html.find('<'); i != std::string_view::npos && i + 1 < html.size(); i = html.find('<', i + 1)) {
        if (html.compare(i, 4, "<!--") == 0) {
            const std::size_t end = html.find("-->", i + 4);
            if (end == std::string_view::npos) break;
            i = end + 2;
            continue;
        }
        if (html[i + 1] == '/') {
            if (depth > 0) --depth;
            continue;
        }
        std::size_t end = i + 1;
        while (end < html.size() && is_name_char(html[end])) ++end;
        if (end == i + 1) continue;  // not a tag: "<" in text
        // Up to the next '<' at most, so input full of unclosed tags stays
        // linear (the next tag's scan starts there).
        const std::size_t close = html.find_first_of("<>", end);
        const bool self_closed = close != std::string_view::npos && html[close] == '>' && html[close - 1] == '/';
        if (is_void_element(html.substr(i + 1, end - i - 1)) || self_closed) continue;
        deepest = std::max(deepest, ++depth);
    }
    return deepest;
}

const GumboAttribute* attribute(const GumboElement& element, const char* name) {
    return gumbo_get_attribute(&element.attributes, name);
}

bool is_link_element(const GumboElement& element) {
    return element.tag == GUMBO_TAG_A || element.tag == GUMBO_TAG_AREA;
}

std::string pixel_tag(const std::string& url) {
    return "<img src=\"" + url +
           "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
           "style=\"display:block;width:1px;height:1px;border:0;margin:0;padding:0\">";
}

}  // namespace

bool is_untracked_target(std::string_view url) {
    const std::string lower = to_lower(trim(url));
    const bool web = lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0;
    return !web || lower.find("unsubscribe") != std::string::npos;
}

HtmlTrackingResult track_html(std::string_view html, const HtmlTracker& tracker) {
    HtmlTrackingResult result;
    if (estimated_nesting(html) > kMaxHtmlNesting) {
        result.html = std::string(html);
        result.skipped = "HTML nested deeper than " + std::to_string(kMaxHtmlNesting) + " elements";
        return result;
    }
    GumboOptions options = kGumboDefaultOptions;
    options.max_errors = 0;  // parse errors are not reported anywhere: do not collect them
    const GumboOutputPtr output(gumbo_parse_with_options(&options, html.data(), html.size()));
    if (!output) {
        result.html = std::string(html);
        result.skipped = "the HTML parser failed";
        return result;
    }

    std::vector<Splice> splices;
    std::optional<std::size_t> body_end;
    std::vector<const GumboNode*> pending{output->root};
    while (!pending.empty()) {
        const GumboNode* node = pending.back();
        pending.pop_back();
        if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
        const GumboElement& element = node->v.element;
        if (element.tag == GUMBO_TAG_BODY && element.original_end_tag.length > 0) {
            body_end = static_cast<std::size_t>(element.original_end_tag.data - html.data());
        }
        const GumboAttribute* href = is_link_element(element) ? attribute(element, "href") : nullptr;
        if (tracker.click_link && href != nullptr && href->original_value.length > 0 &&
            attribute(element, "data-notrack") == nullptr && !is_untracked_target(href->value)) {
            if (auto link = tracker.click_link(trim(href->value))) {
                const std::size_t offset = static_cast<std::size_t>(href->original_value.data - html.data());
                splices.push_back({offset, href->original_value.length, "\"" + *link + "\""});
            }
        }
        for (unsigned i = 0; i < element.children.length; ++i) {
            pending.push_back(static_cast<const GumboNode*>(element.children.data[i]));
        }
    }
    result.links_rewritten = splices.size();
    if (!tracker.pixel_url.empty()) {
        splices.push_back({body_end.value_or(html.size()), 0, pixel_tag(tracker.pixel_url)});
        result.pixel_added = true;
    }
    std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) { return a.offset < b.offset; });

    std::size_t copied = 0;
    for (const Splice& splice : splices) {
        if (splice.offset < copied || splice.offset + splice.length > html.size()) continue;  // never overlap
        result.html.append(html.substr(copied, splice.offset - copied));
        result.html.append(splice.text);
        copied = splice.offset + splice.length;
    }
    result.html.append(html.substr(copied));
    return result;
}

}  // namespace tenantmail::milter
