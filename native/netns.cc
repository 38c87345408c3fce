// The network-namespace opener: a pcap handle keeps capturing in the namespace it was activated in, so only its opening needs to happen there.
#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace tcpcast {

// Linux network namespaces belong to threads: sockets are created in the namespace of the thread that creates them,
// and a pcap handle keeps capturing in the namespace it was activated in, whichever thread reads it later. So the
// handle is opened on a throwaway thread that setns()-es into /run/netns/NAME, runs fn and ends. Why not setns the
// calling thread there and back: the calling thread is the JS thread, which then never leaves its own namespace,
// not even for the length of a pcap_activate, and there is no "way back" step that could fail and strand it.
CaptureError run_in_netns(const std::string& name, const std::function<CaptureError()>& fn) {
  std::string path = "/run/netns/" + name;
  int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    if (e == ENOENT) return {"ERR_NO_SUCH_NETNS", "network namespace '" + name + "' does not exist (no " + path + "; see ip netns list)"};
    return {e == EACCES || e == EPERM ? "ERR_PERMISSION" : "ERR_PCAP_OPEN", "network namespace '" + name + "': " + path + ": " + strerror(e)};
  }
  CaptureError result;
  std::thread opener([&] {
    if (setns(target, CLONE_NEWNET) < 0) {
      int e = errno;
      if (e == EPERM) {
        result = {"ERR_PERMISSION", "network namespace '" + name + "': entering it needs CAP_SYS_ADMIN (setns: " + strerror(e) + ")"};
      } else if (e == EINVAL) {
        result = {"ERR_NO_SUCH_NETNS", "'" + path + "' is not a network namespace"};
      } else {
        result = {"ERR_PCAP_OPEN", "network namespace '" + name + "': setns: " + strerror(e)};
      }
      return;
    }
    result = fn();
  });
  opener.join();
  close(target);
  return result;
}

}  // namespace tcpcast
