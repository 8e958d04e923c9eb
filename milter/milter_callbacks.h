// milter_callbacks.h — the libmilter side of tenantmail-milter: the smfiDesc
// callbacks, the per-connection state they share, and the current signing
// table that SIGHUP replaces. All decisions are in outbound_message and
// foreign_sender (mail of no tenant: checked for tenant identities only,
// otherwise passed untouched, its body unseen); this file translates between
// libmilter and them, applies the result and logs one line per message. No
// C++ exception crosses into libmilter.
#pragma once

#include <libmilter/mfapi.h>

#include <memory>

#include "common/options/milter.h"
#include "milter/milter_metrics.h"
#include "milter/record_writer.h"
#include "milter/reservation_settler.h"
#include "common/signing_table.h"

namespace tenantmail::milter {

// The settings must outlive the filter; the table may be replaced any time.
void install_settings(const MilterSettings& settings);
void install_table(std::shared_ptr<const SigningTable> table);
// Where message records go (nullptr: none are kept). Install before serving.
void install_record_writer(RecordWriter* writer);
// nullptr: no metrics (the default).
void install_metrics(MilterMetrics* metrics);
// Who settles accepted-only reservations (nullptr: nobody). Install before serving.
void install_reservation_settler(ReservationSettler* settler);

// The filter description for smfi_register.
smfiDesc& filter_description();

}  // namespace tenantmail::milter
