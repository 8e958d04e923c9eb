// pages.cpp — see pages.h.
#include "trackd/pages.h"

namespace tenantmail::trackd {
namespace {

// Header, logical screen 1x1 with a 2-colour table, graphic control
// extension (colour 0 transparent), image descriptor, LZW data, trailer.
constexpr char kGif[] =
    "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    "!\xf9\x04\x01\x00\x00\x00\x00"
    ",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;";

}  // namespace

std::string_view transparent_gif() { return {kGif, sizeof kGif - 1}; }

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

std::string unsubscribe_page(std::string_view token) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Unsubscribe</title>"
           "<meta name=\"robots\" content=\"noindex\"></head>\n<body>\n"
           "<p>Stop receiving these messages?</p>\n"
           "<form method=\"post\" action=\"/u/" +
           html_escape(token) +
           "\" enctype=\"application/x-www-form-urlencoded\">\n"
           "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
           "<button type=\"submit\">Unsubscribe</button>\n</form>\n</body></html>\n";
}

std::string_view unsubscribed_page() {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>\n"
           "<body><p>You are unsubscribed and will not receive these messages any more.</p></body></html>\n";
}

std::string_view not_found_text() { return "not found\n"; }

}  // namespace tenantmail::trackd
