// Everything public in upager.
#ifndef UPAGER_UPAGER_H_
#define UPAGER_UPAGER_H_

#include "upager/anonymous_page_requester.h"
#include "upager/channel.h"
#include "upager/dirty_state.h"
#include "upager/event.h"
#include "upager/mapping.h"
#include "upager/packet.h"
#include "upager/page_budget.h"
#include "upager/page_provider.h"
#include "upager/page_request.h"
#include "upager/page_source.h"
#include "upager/pager.h"
#include "upager/pager_loop.h"
#include "upager/port.h"
#include "upager/rights.h"
#include "upager/stats.h"
#include "upager/status.h"
#include "upager/thread.h"
#include "upager/trace.h"
#include "upager/vmo.h"
#include "upager/vmo_service.h"
#include "upager/write_batch.h"

#endif  // UPAGER_UPAGER_H_
