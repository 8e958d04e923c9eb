// signal_loop.h — the signals of a daemon that runs one asio io_context
// (tenantmail-policyd, tenantmail-trackd): SIGHUP reloads, SIGTERM and
// SIGINT stop. On a stop, on_stop cancels the program's work (its server,
// its AsyncRedis); the io_context stops once the completions that
// cancelling queued have run, whatever else might still be waiting.
#pragma once

#include <boost/asio/signal_set.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/tenants.h"

namespace tenantmail {

struct SignalActions {
    std::function<void()> reload;
    std::function<void(int signal_number)> stop;
};

// Waits on signals (which must hold SIGHUP, SIGTERM and SIGINT) until a stop.
void wait_for_signals(boost::asio::signal_set& signals, SignalActions actions);

// The tenants file loaded anew for a SIGHUP; on an error, logged as
// "reload refused, still serving the previous tenants: ..." and nullptr.
std::shared_ptr<const TenantRegistry> reload_tenants(const std::string& tenants_file);

}  // namespace tenantmail
