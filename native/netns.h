// Runs a function on a short-lived thread inside a named network namespace (/run/netns/NAME), so live handles can be opened there while the process stays in its own.
#pragma once

#include <functional>
#include <string>

#include "capture_error.h"

namespace tcpcast {

// Runs fn on a throwaway thread that has entered /run/netns/<name>; returns fn's result, or a coded error when the
// namespace cannot be entered (ERR_NO_SUCH_NETNS, ERR_PERMISSION, ERR_PCAP_OPEN).
CaptureError run_in_netns(const std::string& name, const std::function<CaptureError()>& fn);

}  // namespace tcpcast
