// libFuzzer target: one Engine per input, fed a sequence of frames with fuzzer-chosen link type, time steps
// (including backwards steps and hour-long gaps), caplen/wirelen and interface, with a tiny flow table so
// eviction, table-full and port reuse paths run. Frames are copied to exact-size heap buffers so ASan
// catches any read past caplen.
//
// Input: [link selector][max_flows][top_k | short windows 0x80] then frames of [len hi][len lo][dt hi][dt lo][extra] + len bytes,
// where the time step is (dt & 0x0fff) << (3 * (dt >> 12)) ns (0xffff steps back 1 s), extra's low 4 bits
// are added to wirelen, bit 4 picks interface 1, bit 5 calls advance(), bit 6 drains the windows (and checks
// that series end at most once, after they were created).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "../engine.h"

using namespace tcpcast;

namespace {
// Selectors 0..10 keep their meaning (the committed corpus depends on it); tunnel-era link types follow
// (240 and 241, netANALYZER, are not decoded: they exercise the unsupported-link path).
const int kLinks[] = {1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 147, 242, 9, 50, 51, 104, 219, 239, 240, 241, 7, 129};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  EngineConfig cfg;
  int link = kLinks[data[0] % (sizeof kLinks / sizeof kLinks[0])];
  cfg.max_flows = 1 + data[1] % 8;
  cfg.top_k = data[2] % 4;
  // Short windows exercise many closes; long ones keep hour-long gaps cheap (the silent cap is 60 s of windows).
  cfg.window_ns = (data[2] & 0x80) ? 10 * NS_PER_MS : NS_PER_S;
  cfg.idle_timeout_ns = 2 * NS_PER_S;
  cfg.per_packet = true;
  // Bit 6 of the flows byte: a one-port VXLAN list that includes 53/80-ish ports, so UDP is tried as VXLAN often.
  if (data[1] & 0x40) {
    cfg.decap.vxlan_port_count = 1;
    cfg.decap.vxlan_ports[0] = static_cast<uint16_t>(data[1] & 0x3f);
  }
  Engine engine(cfg);
  std::vector<WindowRecord> windows;
  std::vector<SeriesInfo> series;
  std::vector<SeriesEnd> ended;
  std::set<uint32_t> live_series;  // created and not yet ended
  size_t ended_total = 0;
  // Every series ends at most once, only after it was created, and never an interface ("all") series.
  auto drain = [&]() {
    engine.take_windows(&windows);
    engine.take_new_series(&series);
    for (const SeriesInfo& s : series) {
      if (s.key != "all") live_series.insert(s.index);
    }
    engine.take_ended_series(&ended);
    for (const SeriesEnd& e : ended) {
      if (live_series.erase(e.index) != 1) std::abort();
    }
    ended_total += ended.size();
  };
  PacketRecord rec;
  int64_t ts = 1700000000 * NS_PER_S;
  size_t pos = 3;
  while (pos + 5 <= size) {
    size_t len = (static_cast<size_t>(data[pos]) << 8) | data[pos + 1];
    uint16_t dt = static_cast<uint16_t>((data[pos + 2] << 8) | data[pos + 3]);
    uint8_t extra = data[pos + 4];
    pos += 5;
    if (len > size - pos) len = size - pos;
    if (dt == 0xffff) ts -= NS_PER_S;
    else ts += static_cast<int64_t>(dt & 0x0fff) << (3 * (dt >> 12));
    uint8_t* frame = static_cast<uint8_t*>(std::malloc(len ? len : 1));
    if (len) std::memcpy(frame, data + pos, len);
    pos += len;
    engine.process(link, frame, static_cast<uint32_t>(len), static_cast<uint32_t>(len + (extra & 0x0f)), ts,
                   (extra & 0x10) ? 1 : 0, &rec);
    std::free(frame);
    if (extra & 0x20) engine.advance(ts);
    if (extra & 0x40) drain();
  }
  engine.finish();
  drain();
  const Counters& c = engine.counters();
  if (c.series_ended != ended_total) std::abort();
  // Invariants the fuzzer can break: the table bound and the flow accounting.
  if (c.flows_active > cfg.max_flows) std::abort();
  if (c.flows_created - c.flows_evicted_idle - c.flows_evicted_half_open - c.flows_port_reused != c.flows_active) std::abort();
  return 0;
}
