// mime_report.cpp — walking a report message with GMime (see mime_report.h).
#include "bounce/mime_report.h"

#include <utility>
#include <vector>

#include "common/mime/gmime_handles.h"
#include "common/text.h"

namespace tenantmail::bounce {

namespace {

bool is_type(GMimeObject* object, const char* type, const char* subtype) {
    GMimeContentType* content_type = g_mime_object_get_content_type(object);
    return content_type != nullptr && g_mime_content_type_is_type(content_type, type, subtype);
}

StatusPartType status_type_of(GMimeObject* object) {
    if (!GMIME_IS_PART(object)) return StatusPartType::none;
    if (is_type(object, "message", "delivery-status")) return StatusPartType::delivery_status;
    if (is_type(object, "message", "global-delivery-status")) return StatusPartType::global_delivery_status;
    if (is_type(object, "message", "feedback-report")) return StatusPartType::feedback_report;
    return StatusPartType::none;
}

bool is_returned_headers(GMimeObject* object) {
    return GMIME_IS_PART(object) &&
           (is_type(object, "text", "rfc822-headers") || is_type(object, "message", "global-headers"));
}

// The multiparts of the message in document order, not looking inside
// message/rfc822 parts (a returned original may itself be a bounce).
// Iterative, so the walk's own stack use does not grow with the nesting.
std::vector<GMimeMultipart*> multiparts_of(GMimeObject* root) {
    std::vector<GMimeMultipart*> found;
    std::vector<std::pair<GMimeObject*, std::size_t>> stack{{root, 0}};
    std::size_t visited = 0;
    while (!stack.empty() && visited < kMaxMimeParts) {
        auto [object, depth] = stack.back();
        stack.pop_back();
        ++visited;
        if (object == nullptr || !GMIME_IS_MULTIPART(object) || depth >= kMaxMimeDepth) continue;
        auto* multipart = GMIME_MULTIPART(object);
        found.push_back(multipart);
        // Pushed in reverse so the first child is visited first.
        for (int i = g_mime_multipart_get_count(multipart); i-- > 0;) {
            stack.emplace_back(g_mime_multipart_get_part(multipart, i), depth + 1);
        }
    }
    return found;
}

GMimeObject* status_child(GMimeMultipart* multipart) {
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count && static_cast<std::size_t>(i) < kMaxMimeParts; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(multipart, i);
        if (status_type_of(child) != StatusPartType::none) return child;
    }
    return nullptr;
}

// RFC 6522 puts the status part directly in the multipart/report. Prefer a
// multipart/report that has one; then any multipart/report (its report-type
// says what it is); then, for senders that forget multipart/report, any
// multipart holding a status part.
GMimeMultipart* find_report_container(GMimeObject* root, bool& is_report) {
    const std::vector<GMimeMultipart*> multiparts = multiparts_of(root);
    GMimeMultipart* first_report = nullptr;
    GMimeMultipart* first_with_status = nullptr;
    for (GMimeMultipart* multipart : multiparts) {
        const bool report = is_type(GMIME_OBJECT(multipart), "multipart", "report");
        const bool has_status = status_child(multipart) != nullptr;
        if (report && has_status) {
            is_report = true;
            return multipart;
        }
        if (report && first_report == nullptr) first_report = multipart;
        if (has_status && first_with_status == nullptr) first_with_status = multipart;
    }
    is_report = first_report != nullptr;
    return first_report != nullptr ? first_report : first_with_status;
}

// The decoded content of a leaf part (base64 and quoted-printable undone),
// cut at limit bytes.
std::string decoded_content(GMimeObject* object, std::size_t limit, bool& truncated) {
    GMimeDataWrapper* wrapper = g_mime_part_get_content(GMIME_PART(object));
    if (wrapper == nullptr) return {};
    GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
    if (g_mime_data_wrapper_write_to_stream(wrapper, out.get()) < 0) return {};
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    if (bytes == nullptr) return {};
    truncated = bytes->len > limit;
    return std::string(reinterpret_cast<const char*>(bytes->data), truncated ? limit : bytes->len);
}

std::string embedded_headers(GMimeObject* object) {
    GMimeMessage* message = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (message == nullptr) return {};
    const GCharPtr headers(g_mime_object_get_headers(GMIME_OBJECT(message), nullptr));
    return headers ? std::string(headers.get()) : std::string();
}

void read_original(GMimeMultipart* container, ReportParts& parts) {
    const int count = g_mime_multipart_get_count(container);
    for (int i = 0; i < count && static_cast<std::size_t>(i) < kMaxMimeParts; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(container, i);
        if (GMIME_IS_MESSAGE_PART(child)) {
            parts.has_original = true;
            parts.original_headers = embedded_headers(child);
            return;
        }
        if (is_returned_headers(child)) {
            bool truncated = false;
            parts.has_original = true;
            parts.original_headers = decoded_content(child, kMaxStatusPartBytes, truncated);
            return;
        }
    }
}

}  // namespace

std::string_view mime_prefix(std::string_view message) {
    std::size_t boundaries = 0;
    std::size_t line = 0;
    while (line < message.size()) {
        if (message.compare(line, 2, "--") == 0 && ++boundaries > kMaxBoundaryLines) return message.substr(0, line);
        const std::size_t end = message.find('\n', line);
        if (end == std::string_view::npos) break;
        line = end + 1;
    }
    return message;
}

ReportParts extract_report_parts(std::string_view whole_message) {
    ensure_gmime_initialised();
    ReportParts parts;
    const std::string_view message = mime_prefix(whole_message);
    parts.cut_at_boundary_limit = message.size() < whole_message.size();
    GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
    GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GObjectPtr<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!parsed) return parts;
    if (const char* id = g_mime_message_get_message_id(parsed.get()); id != nullptr) {
        parts.message_id = std::string(trim(id));
    }
    GMimeObject* root = g_mime_message_get_mime_part(parsed.get());
    if (root == nullptr) return parts;

    GMimeMultipart* container = find_report_container(root, parts.is_report);
    if (container == nullptr) return parts;
    if (const char* type = g_mime_content_type_get_parameter(g_mime_object_get_content_type(GMIME_OBJECT(container)),
                                                             "report-type");
        type != nullptr) {
        parts.report_type = to_lower(trim(type));
    }
    if (GMimeObject* status = status_child(container); status != nullptr) {
        parts.status_type = status_type_of(status);
        parts.status_text = decoded_content(status, kMaxStatusPartBytes, parts.status_truncated);
    }
    read_original(container, parts);
    return parts;
}

}  // namespace tenantmail::bounce
