// wire_response.cpp — see wire_response.h.
#include "trackd/wire_response.h"

#include <boost/beast/http/write.hpp>
#include <sstream>
#include <stdexcept>

namespace tenantmail::trackd {
namespace {

// Cannot occur in a value set here: a NUL is not allowed in a field.
constexpr std::string_view kPlaceholder{"\0tenantmail-placeholder\0", 24};

std::string serialize(const HttpResponse& response) {
    std::ostringstream out;
    out << response;
    return std::move(out).str();
}

}  // namespace

WireResponse to_wire(const HttpResponse& response) { return {serialize(response), response.keep_alive()}; }

WireTemplate::WireTemplate(HttpResponse response, boost::beast::http::field field) : keep_alive_(response.keep_alive()) {
    response.set(field, boost::beast::string_view(kPlaceholder.data(), kPlaceholder.size()));
    const std::string bytes = serialize(response);
    const std::size_t at = bytes.find(kPlaceholder);
    if (at == std::string::npos) throw std::logic_error("response template without its placeholder");
    before_ = bytes.substr(0, at);
    after_ = bytes.substr(at + kPlaceholder.size());
}

WireResponse WireTemplate::with(std::string_view value) const {
    WireResponse response;
    response.keep_alive = keep_alive_;
    response.bytes.reserve(before_.size() + value.size() + after_.size());
    response.bytes.append(before_).append(value).append(after_);
    return response;
}

}  // namespace tenantmail::trackd
