// Engine: frame numbering, parsing, the connection table and the window aggregator behind the engine.h API.
#include "engine.h"

#include <cstring>

#include "flow_table.h"
#include "packet.h"
#include "window.h"

namespace tcpcast {

namespace {
// Capture times beyond this (year ~2116) or below 0 are clamped so window arithmetic cannot overflow.
constexpr int64_t MAX_TS_NS = int64_t{1} << 62;
}  // namespace

struct Engine::Impl {
  explicit Impl(const EngineConfig& c)
      : config(c), flows(c.max_flows, c.idle_timeout_ns, &counters, c.half_open_timeout_ns), windows(c, &flows, &counters) {
    flows.set_end_hook(&Impl::on_flow_end, this);
  }
  static void on_flow_end(void* ctx, uint32_t id, const Flow& f, SeriesEndReason why) {
    static_cast<Impl*>(ctx)->windows.flow_ended(id, f, why);
  }
  EngineConfig config;
  Counters counters;
  FlowTable flows;
  WindowAggregator windows;
  int64_t last_expire_ns = 0;
};

Engine::Engine(const EngineConfig& config) : impl_(new Impl(config)) {}

Engine::~Engine() { delete impl_; }

bool Engine::process(int linktype, const uint8_t* data, uint32_t caplen, uint32_t wirelen, int64_t ts_ns,
                     uint32_t iface, PacketRecord* record) {
  Impl& m = *impl_;
  Counters& c = m.counters;
  c.frames++;
  if (ts_ns < 0) ts_ns = 0;
  if (ts_ns > MAX_TS_NS) ts_ns = MAX_TS_NS;
  PacketView p;
  ParseResult res = parse_packet(linktype, data, caplen, wirelen, ts_ns, &p, &m.config.decap);
  switch (res) {
    case ParseResult::ok: break;
    case ParseResult::not_ip: c.not_ip++; return false;
    case ParseResult::not_tcp: c.not_tcp++; return false;
    case ParseResult::fragment: c.fragments++; return false;
    case ParseResult::truncated: c.truncated++; return false;
    case ParseResult::malformed: c.malformed++; return false;
    case ParseResult::unsupported_link: c.unsupported_link++; return false;
    case ParseResult::unknown_encap: c.unknown_encap++; return false;
    case ParseResult::depth_limit: c.decap_depth_limit++; return false;
  }
  c.tcp_packets++;
  if (p.decap_layers) c.decapsulated++;
  // Linux cooked v2 ("-i any") names the interface in the frame: one "all" series per interface.
  if (p.ifindex >= 0) iface = static_cast<uint32_t>(p.ifindex);
  // Idle eviction is checked at most once per capture-second: the LRU head test is cheap, but not free.
  if (ts_ns - m.last_expire_ns >= NS_PER_S || ts_ns < m.last_expire_ns) {
    m.flows.expire(ts_ns);
    m.last_expire_ns = ts_ns;
  }
  // Close due windows first, so a window's "at window end" values do not include this packet.
  m.windows.advance(ts_ns);
  SegmentResult r;
  m.flows.update(p, iface, &r);
  m.windows.on_packet(p, iface, r);
  if (!m.config.per_packet || record == nullptr) return false;
  record->frame_number = c.frames;
  record->ts_ns = ts_ns;
  record->stream = r.stream;
  record->ip_version = p.ip_version;
  std::memcpy(record->src, p.src, 16);
  std::memcpy(record->dst, p.dst, 16);
  record->sport = p.sport;
  record->dport = p.dport;
  record->tcp_len = p.tcp_len;
  record->ack_rtt_ns = r.ack_rtt_ns;
  record->bytes_in_flight = r.bytes_in_flight;
  record->ts_rtt_ns = r.ts_rtt_ns;
  record->retransmission = r.retransmission ? 1 : 0;
  return true;
}

void Engine::advance(int64_t now_ns) {
  if (now_ns < 0) now_ns = 0;
  if (now_ns > MAX_TS_NS) now_ns = MAX_TS_NS;
  impl_->flows.expire(now_ns);
  impl_->windows.advance(now_ns);
}

void Engine::finish() { impl_->windows.finish(); }

void Engine::take_windows(std::vector<WindowRecord>* out) { impl_->windows.take_windows(out); }

void Engine::take_new_series(std::vector<SeriesInfo>* out) { impl_->windows.take_new_series(out); }

void Engine::take_ended_series(std::vector<SeriesEnd>* out) { impl_->windows.take_ended_series(out); }

const Counters& Engine::counters() const {
  impl_->counters.flows_active = impl_->flows.active();
  return impl_->counters;
}

}  // namespace tcpcast
