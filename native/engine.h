// The per-packet engine: parse -> flow table -> windows, pure C++ (no pcap handle, no N-API), so tests and fuzzers drive it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "packet.h"
#include "types.h"

namespace tcpcast {

struct EngineConfig {
  int64_t window_ns = 50 * NS_PER_MS;      // fixed window length; boundaries are multiples of it in capture time
  uint32_t top_k = 20;                     // per-flow series for the K flows with the most bytes
  uint32_t max_flows = 65536;              // flow table bound; new flows beyond it are counted, not tracked
  int64_t idle_timeout_ns = 60 * NS_PER_S; // flows idle this long are evicted
  int64_t half_open_timeout_ns = 5 * NS_PER_S;  // connections that never carried payload: evicted sooner
  bool per_packet = false;                 // fill PacketRecord for every TCP packet (the `packets` command)
  DecapConfig decap;                       // tunnels followed to the inner TCP connection (default: all, VXLAN 4789/8472)
};

// One series: the aggregate of an interface ("all") or one connection (both directions).
struct SeriesInfo {
  uint32_t index;        // stable for the life of the engine; WindowRecord.series refers to it
  uint32_t iface;        // caller's interface id
  std::string key;       // "all" or "10.0.0.1:5201-10.0.0.2:40000" (endpoint that opened the connection second)
};

class Engine {
 public:
  explicit Engine(const EngineConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Feeds one captured frame. Never reads past caplen; malformed input is counted, never fatal. iface is the
  // caller's interface id; a frame that carries its own (SLL2 ifindex, PacketView.ifindex) uses that instead.
  // When config.per_packet is set and the frame is TCP, *record is filled and true is returned.
  bool process(int linktype, const uint8_t* data, uint32_t caplen, uint32_t wirelen, int64_t ts_ns,
               uint32_t iface, PacketRecord* record);

  // Closes every window that ends at or before now_ns (live capture calls this from a timer so idle
  // links still produce silent windows). Capture time never moves backwards: older packets go to the open window.
  void advance(int64_t now_ns);

  // Closes the open (partial) window of every series: end of file or shutdown.
  void finish();

  // Closed windows since the last call, in close order; the caller takes them (vector is cleared).
  void take_windows(std::vector<WindowRecord>* out);
  // Series created since the last call; the caller takes them.
  void take_new_series(std::vector<SeriesInfo>* out);
  // Series that ended since the last call (their last window was emitted before); the caller takes them.
  void take_ended_series(std::vector<SeriesEnd>* out);

  const Counters& counters() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace tcpcast
