// policy_protocol.h — the Postfix policy delegation protocol
// (SMTPD_POLICY_README): requests are "name=value" lines ended by an empty
// line, the answer is "action=...", then an empty line; one connection
// carries many requests, one after the other.
// PolicyParser is pure and incremental: it is fed whatever the socket gave
// (a fragment of a request, several requests at once) and yields complete
// requests. It keeps only the attributes the decision needs. Input that
// breaks the protocol or the limits (size, attribute count, a line without
// '=', control bytes such as NUL) is an error with a reason for the log;
// the connection is then closed, since there is no way to resynchronise.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tenantmail::policyd {

struct PolicyLimits {
    std::size_t max_request_size = 64 * 1024;  // bytes, its lines and newlines included
    std::size_t max_attributes = 100;
};

// The attributes policyd reads; every other one is checked and skipped.
struct PolicyRequest {
    std::string request;         // "smtpd_access_policy"
    std::string protocol_state;  // "RCPT", "DATA", ...
    std::string sasl_username;
    std::string client_address;
    std::string client_port;     // Postfix 2.5+; with server_address it names the
    std::string server_address;  // SMTP connection for accepted-only counting
    std::string recipient;
    std::string queue_id;
    std::string instance;  // one value per message transaction (Postfix 2.2+)
    std::size_t attributes = 0;

    // Empties the values but keeps their capacity for the next request.
    void clear();
};

class PolicyParser {
public:
    enum class Status { need_more, ready, error };

    explicit PolicyParser(PolicyLimits limits = {});

    // Reading without a copy: read into writable() (at least min_free bytes),
    // then commit() what was read.
    std::span<char> writable(std::size_t min_free = 4096);
    void commit(std::size_t count);
    // writable() + copy + commit(), for tests and callers holding a buffer.
    void feed(std::string_view data);

    // The next complete request from what was fed. ready: request() holds
    // it until the next call. error: error() says why; the parser stays in
    // error. need_more: feed more bytes.
    Status parse();
    const PolicyRequest& request() const { return request_; }
    const std::string& error() const { return error_; }

    // At end of input: true when no partial request is left over (a client
    // that closed in the middle of a request gets no answer; the caller logs
    // error() then).
    bool finish();

    // Bytes fed but not yet taken as requests: 0 between requests.
    std::size_t buffered() const { return end_ - begin_; }
    // Size of the buffer. A caller that reads only after parse() said
    // need_more never makes it exceed max_request_size + min_free.
    std::size_t capacity() const { return capacity_; }

private:
    Status fail(std::string reason);
    bool take_line(std::string_view line);

    PolicyLimits limits_;
    std::unique_ptr<char[]> buffer_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;  // start of the current (unfinished) request
    std::size_t scan_ = 0;   // start of the next line not yet parsed
    std::size_t end_ = 0;    // end of the bytes read
    bool in_request_ = false;
    bool failed_ = false;
    PolicyRequest request_;
    std::string error_;
};

// Appends "action=ACTION\n\n".
void append_reply(std::string& out, std::string_view action);

}  // namespace tenantmail::policyd
