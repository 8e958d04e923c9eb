// signal_loop.cpp — see signal_loop.h.
#include "common/signal_loop.h"

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <utility>

#include "common/log.h"

namespace tenantmail {

void wait_for_signals(boost::asio::signal_set& signals, SignalActions actions) {
    signals.async_wait([&signals, actions = std::move(actions)](const boost::system::error_code& ec,
                                                                int signal_number) mutable {
        if (ec) return;
        if (signal_number == SIGHUP) {
            actions.reload();
            wait_for_signals(signals, std::move(actions));
            return;
        }
        actions.stop(signal_number);
        boost::asio::post(signals.get_executor(), [&signals] {
            static_cast<boost::asio::io_context&>(signals.get_executor().context()).stop();
        });
    });
}

std::shared_ptr<const TenantRegistry> reload_tenants(const std::string& tenants_file) {
    auto registry = TenantRegistry::load_file(tenants_file);
    if (!registry) {
        LOG_ERROR("reload refused, still serving the previous tenants: %s", registry.error().c_str());
        return nullptr;
    }
    return std::make_shared<const TenantRegistry>(std::move(registry).value());
}

}  // namespace tenantmail
