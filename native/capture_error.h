// The error every capture-side call returns: a stable code for the JS error class and one line of text for the user.
#pragma once

#include <string>

namespace tcpcast {

// An error for the user: a stable code (ERR_PCAP_OPEN, ERR_BPF, ...) and one line of text.
struct CaptureError {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
};

}  // namespace tcpcast
