// outage.h — the state of "a dependency is down" that every daemon keeps
// for Redis: log the first failure of an outage once (later ones are only
// worth a debug line), wait a bounded, doubling delay between attempts, and
// log the recovery with how long it lasted. A pure value: the caller passes
// the time and does the logging in its own words, so each program keeps its
// vocabulary ("holding the log", "answering with the fallback action").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace tenantmail {

class Outage {
public:
    using Clock = std::chrono::steady_clock;

    // The first retry waits first_delay; each further failure doubles the
    // wait, up to max_delay. A success starts the next outage at first_delay.
    Outage(std::chrono::milliseconds first_delay, std::chrono::milliseconds max_delay);

    struct Failure {
        std::chrono::milliseconds delay;  // wait this long before trying again
        bool log_now;                     // the first failure of this outage
    };
    Failure on_failure(Clock::time_point now);

    struct Summary {
        Clock::duration duration;  // from the first failure to this success
        std::uint64_t failures;    // attempts that failed meanwhile
    };
    // A summary when this success ends an outage; nullopt when all was well.
    std::optional<Summary> on_success(Clock::time_point now);

    bool ongoing() const { return failures_ > 0; }
    // When the ongoing outage began (meaningless when !ongoing()).
    Clock::time_point started() const { return started_; }

private:
    std::chrono::milliseconds first_delay_;
    std::chrono::milliseconds max_delay_;
    std::chrono::milliseconds next_delay_;
    std::uint64_t failures_ = 0;
    Clock::time_point started_{};
};

}  // namespace tenantmail
