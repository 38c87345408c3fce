// Host helpers around the capture: interfaces as libpcap lists them, dropping root after the handles are open, library versions.
#pragma once

#include <string>
#include <vector>

#include "capture_error.h"

namespace tcpcast {

// Interfaces as pcap_findalldevs lists them.
struct DeviceAddress {
  std::string family;  // "inet", "inet6", "packet", or the number
  std::string addr;
  std::string netmask;
  std::string broadcast;
};
struct DeviceInfo {
  std::string name;
  std::string description;
  std::vector<std::string> flags;  // "up", "running", "loopback", "wireless", "connected", "disconnected"
  std::vector<DeviceAddress> addresses;
};
CaptureError list_devices(std::vector<DeviceInfo>* out);

// After all handles are open: leave root for `user` (supplementary groups, gid, uid), verified by trying to regain root.
CaptureError drop_privileges(const std::string& user);

std::string pcap_version();

}  // namespace tcpcast
