// Host helpers: pcap_findalldevs as plain structs, the privilege drop (verified by trying to regain root), libpcap's version.
#include "host.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tcpcast {

CaptureError list_devices(std::vector<DeviceInfo>* out) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, errbuf) < 0) return {"ERR_PCAP_OPEN", std::string("cannot list devices: ") + errbuf};
  for (pcap_if_t* d = all; d; d = d->next) {
    DeviceInfo info;
    info.name = d->name;
    if (d->description) info.description = d->description;
    if (d->flags & PCAP_IF_UP) info.flags.push_back("up");
    if (d->flags & PCAP_IF_RUNNING) info.flags.push_back("running");
    if (d->flags & PCAP_IF_LOOPBACK) info.flags.push_back("loopback");
    if (d->flags & PCAP_IF_WIRELESS) info.flags.push_back("wireless");
    switch (d->flags & PCAP_IF_CONNECTION_STATUS) {
      case PCAP_IF_CONNECTION_STATUS_CONNECTED: info.flags.push_back("connected"); break;
      case PCAP_IF_CONNECTION_STATUS_DISCONNECTED: info.flags.push_back("disconnected"); break;
      default: break;
    }
    for (pcap_addr_t* a = d->addresses; a; a = a->next) {
      if (!a->addr) continue;
      auto text = [](const sockaddr* sa) -> std::string {
        if (!sa) return "";
        char buf[INET6_ADDRSTRLEN] = "";
        if (sa->sa_family == AF_INET) {
          inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
        } else if (sa->sa_family == AF_INET6) {
          inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
        } else if (sa->sa_family == AF_PACKET) {
          const sockaddr_ll* ll = reinterpret_cast<const sockaddr_ll*>(sa);
          std::string mac;
          for (int i = 0; i < ll->sll_halen && i < 8; i++) {
            char hex[4];
            snprintf(hex, sizeof hex, i ? ":%02x" : "%02x", ll->sll_addr[i]);
            mac += hex;
          }
          return mac;
        }
        return buf;
      };
      DeviceAddress addr;
      int family = a->addr->sa_family;
      addr.family = family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : family == AF_PACKET ? "packet" : std::to_string(family);
      addr.addr = text(a->addr);
      addr.netmask = text(a->netmask);
      addr.broadcast = text(a->broadaddr);
      info.addresses.push_back(addr);
    }
    out->push_back(info);
  }
  pcap_freealldevs(all);
  return {};
}

CaptureError drop_privileges(const std::string& user) {
  passwd pw_storage;
  passwd* pw = nullptr;
  std::vector<char> buf(16384);
  int rc = getpwnam_r(user.c_str(), &pw_storage, buf.data(), buf.size(), &pw);
  if (rc != 0 || !pw) return {"ERR_PRIVILEGE_DROP", "unknown user '" + user + "'"};
  if (initgroups(pw->pw_name, pw->pw_gid) < 0) return {"ERR_PRIVILEGE_DROP", std::string("initgroups: ") + strerror(errno)};
  if (setgid(pw->pw_gid) < 0) return {"ERR_PRIVILEGE_DROP", std::string("setgid: ") + strerror(errno)};
  if (setuid(pw->pw_uid) < 0) return {"ERR_PRIVILEGE_DROP", std::string("setuid: ") + strerror(errno)};
  if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid || getegid() != pw->pw_gid) {
    return {"ERR_PRIVILEGE_DROP", "ids did not change to user '" + user + "'"};
  }
  // If root could be regained, the drop did not happen (e.g. saved set-user-id kept).
  if (pw->pw_uid != 0 && setuid(0) == 0) return {"ERR_PRIVILEGE_DROP", "root could be regained after dropping to '" + user + "'"};
  return {};
}

std::string pcap_version() { return pcap_lib_version(); }

}  // namespace tcpcast
