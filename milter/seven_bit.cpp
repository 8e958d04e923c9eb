// seven_bit.cpp — see seven_bit.h.
#include "milter/seven_bit.h"

#include <vector>

#include "common/mime/gmime_handles.h"
#include "common/text.h"

namespace tenantmail::milter {
namespace {

// What a quoted-printable or base64 encoder writes; a clean part's lines
// are kept to it so a relay has no reason to wrap them again.
constexpr std::size_t encoded_line_octets = 76;
constexpr std::size_t rfc5322_line_octets = 998;
// Nesting deeper than this is no mail a person wrote.
constexpr std::size_t max_depth = 64;

bool trailing_white_space(std::string_view bytes) {
    for (std::size_t lf = bytes.find('\n'); lf != std::string_view::npos; lf = bytes.find('\n', lf + 1)) {
        const std::size_t end = lf >= 1 && bytes[lf - 1] == '\r' ? lf - 1 : lf;
        if (end >= 1 && (bytes[end - 1] == ' ' || bytes[end - 1] == '\t')) return true;
    }
    return !bytes.empty() && (bytes.back() == ' ' || bytes.back() == '\t');
}

std::string stream_bytes(GMimeStream* stream) {
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// The part's content as it stands in the message (still encoded).
std::string encoded_bytes(GMimeDataWrapper* wrapper) {
    GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
    GMimeStream* source = g_mime_data_wrapper_get_stream(wrapper);
    g_mime_stream_reset(source);
    g_mime_stream_write_to_stream(source, out.get());
    g_mime_stream_reset(source);
    return stream_bytes(out.get());
}

std::string decoded_bytes(GMimeDataWrapper* wrapper) {
    GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(wrapper, out.get());
    return stream_bytes(out.get());
}

Result<void> reencode_part(GMimePart* part) {
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    if (wrapper == nullptr) return {};  // an empty part: nothing to encode
    const GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(wrapper);
    const bool known_encoding = encoding == GMIME_CONTENT_ENCODING_DEFAULT || encoding == GMIME_CONTENT_ENCODING_7BIT ||
                                encoding == GMIME_CONTENT_ENCODING_8BIT || encoding == GMIME_CONTENT_ENCODING_BINARY ||
                                encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
                                encoding == GMIME_CONTENT_ENCODING_BASE64;
    const std::string encoded = encoded_bytes(wrapper);
    if (known_encoding && is_clean_seven_bit(encoded, encoded_line_octets) && !trailing_white_space(encoded)) {
        return {};
    }
    if (!known_encoding) {
        // x-uuencode and the like: decodable, but no client verifies them re-encoded by guesswork
        return make_error("a part has a transfer encoding other than 7bit, 8bit, binary, quoted-printable or base64");
    }
    GMimeContentType* type = g_mime_object_get_content_type(GMIME_OBJECT(part));
    const bool text = type != nullptr && g_mime_content_type_is_type(type, "text", "*");
    std::string content = decoded_bytes(wrapper);
    // Text lines as LF for GMime's encoder: the output filter makes every LF
    // a CRLF, and a CR kept here would come out as a literal =0D.
    if (text) content = crlf_to_lf(content);
    GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(content.data(), content.size()));
    GObjectPtr<GMimeDataWrapper> fresh(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part, fresh.get());
    g_mime_part_set_content_encoding(part, text ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE : GMIME_CONTENT_ENCODING_BASE64);
    return {};
}

// Folded header values keep CRLF or LF folds as GMime read them: only
// the octets matter here.
bool is_clean_seven_bit_header(std::string_view value) {
    for (char c : value) {
        const unsigned char octet = static_cast<unsigned char>(c);
        if (octet == 0 || octet > 127) return false;
    }
    return true;
}

bool clean_text(const char* text) {
    return text == nullptr || is_clean_seven_bit(text, rfc5322_line_octets);
}

// Header fields with raw 8-bit octets (UTF-8 file names are common) are
// written again from their decoded value: GMime encodes them (RFC 2047,
// RFC 2231 for parameters), as a 7-bit entity needs. A value that is not
// valid UTF-8 is refused: there is no charset to label it with, and GMime
// 3.2's parameter encoder loops without end on such octets (found by the
// seven_bit fuzz target).
Result<void> encode_header_fields(GMimeObject* object) {
    GMimeHeaderList* list = g_mime_object_get_header_list(object);
    for (int i = 0; list != nullptr && i < g_mime_header_list_get_count(list); ++i) {
        GMimeHeader* header = g_mime_header_list_get_header_at(list, i);
        const char* raw = g_mime_header_get_raw_value(header);
        if (raw == nullptr || is_clean_seven_bit_header(raw)) continue;
        const char* decoded = g_mime_header_get_value(header);
        const std::string value = decoded == nullptr ? std::string() : std::string(decoded);
        if (!g_utf8_validate(raw, -1, nullptr) || !g_utf8_validate(value.c_str(), -1, nullptr)) {
            return make_error(std::string("a part's ") + g_mime_header_get_name(header) +
                              " field has 8-bit octets that are not UTF-8");
        }
        g_mime_header_set_value(header, nullptr, value.c_str(), "utf-8");
    }
    return {};
}

// Depth first, without recursion.
Result<void> walk(GMimeObject* root) {
    std::vector<std::pair<GMimeObject*, std::size_t>> pending{{root, 0}};
    while (!pending.empty()) {
        const auto [object, depth] = pending.back();
        pending.pop_back();
        if (depth > max_depth) return make_error("MIME parts nested more than " + std::to_string(max_depth) + " deep");
        if (auto encoded = encode_header_fields(object); !encoded) return encoded;
        if (GMIME_IS_MULTIPART(object)) {
            GMimeMultipart* multipart = GMIME_MULTIPART(object);
            // Without a boundary (or with one that never occurs) GMime reads
            // everything as preamble; written again, that text would be
            // dropped or shown differently without a word.
            if (g_mime_object_get_content_type_parameter(object, "boundary") == nullptr ||
                g_mime_multipart_get_count(multipart) == 0) {
                return make_error("a multipart part has no boundary or no parts");
            }
            if (!clean_text(g_mime_multipart_get_prologue(multipart))) g_mime_multipart_set_prologue(multipart, nullptr);
            if (!clean_text(g_mime_multipart_get_epilogue(multipart))) g_mime_multipart_set_epilogue(multipart, nullptr);
            for (int i = g_mime_multipart_get_count(multipart) - 1; i >= 0; --i) {
                pending.emplace_back(g_mime_multipart_get_part(multipart, i), depth + 1);
            }
        } else if (GMIME_IS_MESSAGE_PART(object)) {
            GMimeMessage* message = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
            if (message != nullptr) {
                if (auto encoded = encode_header_fields(GMIME_OBJECT(message)); !encoded) return encoded;
            }
            if (message != nullptr && g_mime_message_get_mime_part(message) != nullptr) {
                pending.emplace_back(g_mime_message_get_mime_part(message), depth + 1);
            }
        } else if (GMIME_IS_PART(object)) {
            if (auto ok = reencode_part(GMIME_PART(object)); !ok) return ok;
        }
    }
    return {};
}

std::string header_line(std::string_view name, std::string_view value) {
    return std::string(name) + ":" + std::string(value) + "\r\n";
}

}  // namespace

bool is_clean_seven_bit(std::string_view bytes, std::size_t max_line) {
    std::size_t line = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        if (c == 0 || c > 127) return false;
        if (c == '\r') {
            if (i + 1 >= bytes.size() || bytes[i + 1] != '\n') return false;
            continue;
        }
        if (c == '\n') {
            if (i == 0 || bytes[i - 1] != '\r') return false;
            line = 0;
            continue;
        }
        if (++line > max_line) return false;
    }
    return true;
}

Result<std::string> seven_bit_entity(std::string_view content_type, std::string_view transfer_encoding,
                                     std::string_view body) {
    ensure_gmime_initialised();
    std::string message = "MIME-Version: 1.0\r\n";
    if (!content_type.empty()) message += header_line("Content-Type", content_type);
    if (!transfer_encoding.empty()) message += header_line("Content-Transfer-Encoding", transfer_encoding);
    message += "\r\n";
    message.append(body);

    GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
    GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GObjectPtr<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!parsed || g_mime_message_get_mime_part(parsed.get()) == nullptr) {
        return make_error("the MIME structure could not be read");
    }
    GMimeObject* root = g_mime_message_get_mime_part(parsed.get());
    if (auto ok = walk(root); !ok) return Error{ok.error()};

    GMimeFormatOptions* options = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
    GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
    const gint64 written = g_mime_object_write_to_stream(root, options, out.get());
    g_mime_format_options_free(options);
    if (written < 0) return make_error("the 7-bit body could not be written");
    std::string entity = stream_bytes(out.get());
    if (!is_clean_seven_bit(entity, rfc5322_line_octets)) {
        return make_error("the body cannot be made 7-bit (8-bit octets or overlong lines in a part's header fields)");
    }
    return entity;
}

}  // namespace tenantmail::milter
