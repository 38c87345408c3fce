// The N-API binding (the only file that includes napi.h): options -> CaptureOptions on the JS thread, batches -> typed arrays, coded errors.
//
// Patterns (see /work/shared/STYLE.md): the JS options object becomes a plain C++ struct before any thread starts
// (sharp's baton), so capture threads never touch a JS value; errors are instances of a JS class handed over once
// by setErrorClass() (better-sqlite3), so they carry a `code`. Capture threads only ever call notify(), a
// ThreadSafeFunction with no payload: the JS side then pulls whole batches with take(), which is what bounds the queue.
#include <napi.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>

#include "capture.h"

namespace {

using tcpcast::Batch;
using tcpcast::CaptureError;
using tcpcast::CaptureOptions;

struct AddonData {
  Napi::FunctionReference error_class;
  Napi::FunctionReference capture_ctor;
};

Napi::Value make_error(Napi::Env env, const CaptureError& err) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data && !data->error_class.IsEmpty()) {
    return data->error_class.New({Napi::String::New(env, err.message), Napi::String::New(env, err.code)});
  }
  Napi::Error e = Napi::Error::New(env, err.message);
  e.Set("code", Napi::String::New(env, err.code));
  return e.Value();
}

void throw_error(Napi::Env env, const CaptureError& err) {
  Napi::Error(env, make_error(env, err)).ThrowAsJavaScriptException();
}

// Typed array copies: one allocation and one memcpy per column per batch.
template <typename T, typename Array>
Array column(Napi::Env env, size_t count, const T* src) {
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, count * sizeof(T));
  if (count) memcpy(buffer.Data(), src, count * sizeof(T));
  return Array::New(env, count, buffer, 0);
}

// Reads optional fields with defaults; type checks are the TypeScript layer's job, these only guard against crashes.
double num(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

std::vector<std::string> strings(const Napi::Object& o, const char* key) {
  std::vector<std::string> out;
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value item = a.Get(i);
    if (item.IsString()) out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

CaptureOptions to_options(const Napi::Object& o) {
  CaptureOptions opt;
  opt.files = strings(o, "files");
  opt.interfaces = strings(o, "interfaces");
  Napi::Value bpf = o.Get("bpf");
  if (bpf.IsString()) opt.bpf = bpf.As<Napi::String>().Utf8Value();
  opt.snaplen = int(num(o, "snaplen", opt.snaplen));
  opt.buffer_kib = int(num(o, "bufferKib", opt.buffer_kib));
  opt.promisc = o.Get("promisc").ToBoolean().Value();
  Napi::Value netns = o.Get("netns");
  if (netns.IsString()) opt.netns = netns.As<Napi::String>().Utf8Value();
  opt.speed = num(o, "speed", opt.speed);
  opt.tick_ns = int64_t(num(o, "tickNs", double(opt.tick_ns)));
  opt.queue_batches = size_t(std::max(1.0, num(o, "queueBatches", double(opt.queue_batches))));
  opt.engine.window_ns = int64_t(num(o, "windowNs", double(opt.engine.window_ns)));
  opt.engine.top_k = uint32_t(num(o, "topK", opt.engine.top_k));
  opt.engine.max_flows = uint32_t(num(o, "maxFlows", opt.engine.max_flows));
  opt.engine.idle_timeout_ns = int64_t(num(o, "idleTimeoutNs", double(opt.engine.idle_timeout_ns)));
  opt.packets_fd = int(num(o, "packetsFd", -1));
  opt.engine.half_open_timeout_ns = int64_t(num(o, "halfOpenTimeoutNs", double(opt.engine.half_open_timeout_ns)));
  opt.engine.per_packet = o.Get("perPacket").ToBoolean().Value();
  // Decapsulation: on unless decap is false; vxlanPorts (validated in TS) replaces the default port list.
  Napi::Value decap = o.Get("decap");
  if (decap.IsBoolean()) opt.engine.decap.enabled = decap.As<Napi::Boolean>().Value();
  Napi::Value vxlan = o.Get("vxlanPorts");
  if (vxlan.IsArray()) {
    Napi::Array ports = vxlan.As<Napi::Array>();
    uint32_t n = std::min<uint32_t>(ports.Length(), tcpcast::MAX_VXLAN_PORTS);
    opt.engine.decap.vxlan_port_count = 0;
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value port = ports.Get(i);
      if (port.IsNumber()) opt.engine.decap.vxlan_ports[opt.engine.decap.vxlan_port_count++] = uint16_t(port.As<Napi::Number>().Uint32Value());
    }
  }
  return opt;
}

// snake_case (the C++ and schema name) -> camelCase (the JS stats key): tcp_packets -> tcpPackets.
std::string camel_case(const char* snake) {
  std::string out;
  bool upper = false;
  for (const char* p = snake; *p; p++) {
    if (*p == '_') {
      upper = true;
      continue;
    }
    out += upper ? char(std::toupper(static_cast<unsigned char>(*p))) : *p;
    upper = false;
  }
  return out;
}

struct CounterField {
  const char* name;
  uint64_t tcpcast::Counters::*field;
  const char* description;
};
const CounterField COUNTER_FIELDS[] = {
#define TCPCAST_X(name, description) {#name, &tcpcast::Counters::name, description},
    TCPCAST_COUNTERS(TCPCAST_X)
#undef TCPCAST_X
};

struct SeriesEndReasonName {
  const char* name;
  const char* description;
};
const SeriesEndReasonName SERIES_END_REASONS[] = {
#define TCPCAST_X(name, description) {#name, description},
    TCPCAST_SERIES_END_REASONS(TCPCAST_X)
#undef TCPCAST_X
};

struct WindowColumn {
  const char* name;
  const char* unit;
  const char* description;
};
const WindowColumn WINDOW_COLUMNS[] = {
#define TCPCAST_X(name, unit, description) {#name, unit, description},
    TCPCAST_WINDOW_COLUMNS(TCPCAST_X)
#undef TCPCAST_X
};

Napi::Object window_batch(Napi::Env env, const Batch& b) {
  size_t n = b.windows.size();
  constexpr size_t width = tcpcast::WINDOW_VALUE_COLUMNS;
  std::vector<uint32_t> series(n);
  std::vector<int64_t> end_ns(n);
  std::vector<double> values(n * width);
  for (size_t i = 0; i < n; i++) {
    const tcpcast::WindowRecord& w = b.windows[i];
    series[i] = w.series;
    end_ns[i] = w.window_end_ns;
    // The value fields are one block of doubles in TCPCAST_WINDOW_COLUMNS order (checked in types.h).
    memcpy(&values[i * width], tcpcast::window_values(w), width * sizeof(double));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, double(n)));
  out.Set("series", column<uint32_t, Napi::Uint32Array>(env, n, series.data()));
  Napi::ArrayBuffer end_buf = Napi::ArrayBuffer::New(env, n * sizeof(int64_t));
  if (n) memcpy(end_buf.Data(), end_ns.data(), n * sizeof(int64_t));
  out.Set("windowEndNs", Napi::TypedArrayOf<int64_t>::New(env, n, end_buf, 0, napi_bigint64_array));
  out.Set("values", column<double, Napi::Float64Array>(env, n * width, values.data()));
  Napi::Array ns = Napi::Array::New(env, b.new_series.size());
  for (size_t i = 0; i < b.new_series.size(); i++) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("index", Napi::Number::New(env, b.new_series[i].index));
    s.Set("iface", Napi::String::New(env, b.new_series[i].iface));
    s.Set("key", Napi::String::New(env, b.new_series[i].key));
    ns.Set(uint32_t(i), s);
  }
  out.Set("newSeries", ns);
  Napi::Array ended = Napi::Array::New(env, b.ended_series.size());
  for (size_t i = 0; i < b.ended_series.size(); i++) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("index", Napi::Number::New(env, b.ended_series[i].index));
    e.Set("reason", Napi::String::New(env, SERIES_END_REASONS[size_t(b.ended_series[i].reason)].name));
    ended.Set(uint32_t(i), e);
  }
  out.Set("endedSeries", ended);
  return out;
}

Napi::Object packet_batch(Napi::Env env, const Batch& b) {
  size_t n = b.packets.size();
  std::vector<double> frame(n), ts_sec(n), ack_rtt(n), bif(n), ts_rtt(n);
  std::vector<uint32_t> ts_nsec(n), stream(n), tcp_len(n);
  std::vector<uint8_t> version(n), retrans(n), src(n * 16), dst(n * 16);
  std::vector<uint16_t> sport(n), dport(n);
  for (size_t i = 0; i < n; i++) {
    const tcpcast::PacketRecord& p = b.packets[i];
    frame[i] = double(p.frame_number);
    // Split so JS formats epoch seconds without BigInt per packet; floor division keeps the fraction positive.
    int64_t sec = p.ts_ns / tcpcast::NS_PER_S, frac = p.ts_ns % tcpcast::NS_PER_S;
    if (frac < 0) { frac += tcpcast::NS_PER_S; sec -= 1; }
    ts_sec[i] = double(sec);
    ts_nsec[i] = uint32_t(frac);
    stream[i] = p.stream;
    version[i] = p.ip_version;
    memcpy(&src[i * 16], p.src, 16);
    memcpy(&dst[i * 16], p.dst, 16);
    sport[i] = p.sport;
    dport[i] = p.dport;
    tcp_len[i] = p.tcp_len;
    ack_rtt[i] = double(p.ack_rtt_ns);
    bif[i] = double(p.bytes_in_flight);
    ts_rtt[i] = double(p.ts_rtt_ns);
    retrans[i] = p.retransmission;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, double(n)));
  out.Set("frameNumber", column<double, Napi::Float64Array>(env, n, frame.data()));
  out.Set("tsSec", column<double, Napi::Float64Array>(env, n, ts_sec.data()));
  out.Set("tsNsec", column<uint32_t, Napi::Uint32Array>(env, n, ts_nsec.data()));
  out.Set("stream", column<uint32_t, Napi::Uint32Array>(env, n, stream.data()));
  out.Set("ipVersion", column<uint8_t, Napi::Uint8Array>(env, n, version.data()));
  out.Set("src", column<uint8_t, Napi::Uint8Array>(env, n * 16, src.data()));
  out.Set("dst", column<uint8_t, Napi::Uint8Array>(env, n * 16, dst.data()));
  out.Set("sport", column<uint16_t, Napi::Uint16Array>(env, n, sport.data()));
  out.Set("dport", column<uint16_t, Napi::Uint16Array>(env, n, dport.data()));
  out.Set("tcpLen", column<uint32_t, Napi::Uint32Array>(env, n, tcp_len.data()));
  out.Set("ackRttNs", column<double, Napi::Float64Array>(env, n, ack_rtt.data()));
  out.Set("bytesInFlight", column<double, Napi::Float64Array>(env, n, bif.data()));
  out.Set("tsRttNs", column<double, Napi::Float64Array>(env, n, ts_rtt.data()));
  out.Set("retransmission", column<uint8_t, Napi::Uint8Array>(env, n, retrans.data()));
  return out;
}

// Every counter of TCPCAST_COUNTERS, keyed by its camelCase name.
Napi::Object counters_object(Napi::Env env, const tcpcast::Counters& c) {
  Napi::Object o = Napi::Object::New(env);
  for (const CounterField& f : COUNTER_FIELDS) o.Set(camel_case(f.name), Napi::Number::New(env, double(c.*f.field)));
  return o;
}

// The lists this build was compiled with, so src/native/index.ts can refuse a build whose schema differs from its own.
// Only window columns have a unit; the other lists never ask (with_unit false), the overload just lets one template serve.
const char* unit_of(const WindowColumn& c) { return c.unit; }
template <typename Entry>
const char* unit_of(const Entry&) { return ""; }

// One list entry as JS sees it: {name, description} plus unit for window columns.
template <typename Entry>
Napi::Array entries(Napi::Env env, const Entry* begin, const Entry* end, bool with_unit) {
  Napi::Array out = Napi::Array::New(env);
  for (const Entry* x = begin; x != end; x++) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("name", x->name);
    if (with_unit) e.Set("unit", unit_of(*x));
    e.Set("description", x->description);
    out.Set(out.Length(), e);
  }
  return out;
}

Napi::Object schema_object(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("windowColumns", entries(env, std::begin(WINDOW_COLUMNS), std::end(WINDOW_COLUMNS), true));
  o.Set("counters", entries(env, std::begin(COUNTER_FIELDS), std::end(COUNTER_FIELDS), false));
  o.Set("seriesEndReasons", entries(env, std::begin(SERIES_END_REASONS), std::end(SERIES_END_REASONS), false));
  return o;
}

class CaptureHandle : public Napi::ObjectWrap<CaptureHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "CaptureHandle",
                       {InstanceMethod("start", &CaptureHandle::Start), InstanceMethod("stop", &CaptureHandle::Stop),
                        InstanceMethod("take", &CaptureHandle::Take), InstanceMethod("stats", &CaptureHandle::Stats),
                        InstanceMethod("linktypes", &CaptureHandle::Linktypes),
                        InstanceMethod("close", &CaptureHandle::Close)});
  }

  // new CaptureHandle(options, onReadable): opens every handle now so errors are thrown here, with their code.
  explicit CaptureHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CaptureHandle>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw_error(env, {"ERR_INVALID_OPTION", "CaptureHandle(options, onReadable) expects an object and a function"});
      return;
    }
    CaptureOptions options = to_options(info[0].As<Napi::Object>());
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "tcpcast-capture", 0, 1);
    tsfn_live_ = true;
    Napi::ThreadSafeFunction tsfn = tsfn_;
    capture_.reset(new tcpcast::Capture(options, [tsfn]() mutable { tsfn.NonBlockingCall(); }));
    CaptureError err = capture_->open();
    if (!err.ok()) {
      capture_.reset();
      release();
      throw_error(env, err);
    }
  }

  ~CaptureHandle() override {
    // Garbage collected without close(): stop and join before the notify function goes away.
    if (capture_) {
      capture_->stop();
      capture_->join();
      capture_.reset();
    }
    release();
  }

 private:
  void release() {
    if (tsfn_live_) {
      tsfn_live_ = false;
      tsfn_.Release();
    }
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (capture_) capture_->start();
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (capture_) capture_->stop();
    return info.Env().Undefined();
  }

  // take(max): up to max queued items, oldest first: {windows, packets, error, warning, end}.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t max = info.Length() > 0 && info[0].IsNumber() ? size_t(info[0].As<Napi::Number>().Uint32Value()) : 64;
    std::vector<std::unique_ptr<Batch>> items;
    if (capture_) capture_->take(&items, max);
    Napi::Array out = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); i++) {
      const Batch& b = *items[i];
      Napi::Object item = Napi::Object::New(env);
      item.Set("end", Napi::Boolean::New(env, b.end));
      if (!b.windows.empty() || !b.new_series.empty() || !b.ended_series.empty()) item.Set("windows", window_batch(env, b));
      if (!b.packets.empty()) item.Set("packets", packet_batch(env, b));
      if (!b.error.ok()) item.Set("error", make_error(env, b.error));
      if (!b.warning.empty()) item.Set("warning", Napi::String::New(env, b.warning));
      out.Set(uint32_t(i), item);
    }
    return out;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!capture_ && !closed_stats_) return o;
    tcpcast::CaptureStats s = capture_ ? capture_->stats() : *closed_stats_;
    o.Set("counters", counters_object(env, s.counters));
    Napi::Array pcap = Napi::Array::New(env, s.pcap.size());
    for (size_t i = 0; i < s.pcap.size(); i++) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("source", Napi::String::New(env, s.pcap[i].source));
      p.Set("live", Napi::Boolean::New(env, s.pcap[i].live));
      p.Set("received", Napi::Number::New(env, double(s.pcap[i].received)));
      p.Set("dropped", Napi::Number::New(env, double(s.pcap[i].dropped)));
      p.Set("ifDropped", Napi::Number::New(env, double(s.pcap[i].if_dropped)));
      pcap.Set(uint32_t(i), p);
    }
    o.Set("pcap", pcap);
    o.Set("batchesDropped", Napi::Number::New(env, double(s.batches_dropped)));
    o.Set("windowsDropped", Napi::Number::New(env, double(s.windows_dropped)));
    o.Set("packetsDropped", Napi::Number::New(env, double(s.packets_dropped)));
    o.Set("queueLength", Napi::Number::New(env, double(s.queue_length)));
    return o;
  }

  Napi::Value Linktypes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int> types = capture_ ? capture_->linktypes() : closed_linktypes_;
    Napi::Array out = Napi::Array::New(env, types.size());
    for (size_t i = 0; i < types.size(); i++) out.Set(uint32_t(i), Napi::Number::New(env, types[i]));
    return out;
  }

  // After the end item was taken (or after stop()): the threads have left their loops, so joining is quick.
  // The native capture (engines, flow tables, pcap handles) is freed here rather than when the JS wrapper is
  // garbage collected: a wrapper is small to V8, so GC would let hundreds of finished captures pile up natively.
  // The final counters stay readable (the daemon logs them after the capture ended).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (capture_) {
      capture_->stop();
      capture_->join();
      closed_stats_.reset(new tcpcast::CaptureStats(capture_->stats()));
      closed_linktypes_ = capture_->linktypes();
      capture_.reset();
    }
    release();
    return info.Env().Undefined();
  }

  std::unique_ptr<tcpcast::Capture> capture_;
  std::unique_ptr<tcpcast::CaptureStats> closed_stats_;
  std::vector<int> closed_linktypes_;
  Napi::ThreadSafeFunction tsfn_;
  bool tsfn_live_ = false;
};

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  if (info.Length() > 0 && info[0].IsFunction()) data->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value ListDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<tcpcast::DeviceInfo> devices;
  CaptureError err = tcpcast::list_devices(&devices);
  if (!err.ok()) {
    throw_error(env, err);
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, devices.size());
  for (size_t i = 0; i < devices.size(); i++) {
    const tcpcast::DeviceInfo& d = devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", d.name);
    o.Set("description", d.description);
    Napi::Array flags = Napi::Array::New(env, d.flags.size());
    for (size_t j = 0; j < d.flags.size(); j++) flags.Set(uint32_t(j), d.flags[j]);
    o.Set("flags", flags);
    Napi::Array addrs = Napi::Array::New(env, d.addresses.size());
    for (size_t j = 0; j < d.addresses.size(); j++) {
      Napi::Object a = Napi::Object::New(env);
      a.Set("family", d.addresses[j].family);
      a.Set("addr", d.addresses[j].addr);
      if (!d.addresses[j].netmask.empty()) a.Set("netmask", d.addresses[j].netmask);
      if (!d.addresses[j].broadcast.empty()) a.Set("broadcast", d.addresses[j].broadcast);
      addrs.Set(uint32_t(j), a);
    }
    o.Set("addresses", addrs);
    out.Set(uint32_t(i), o);
  }
  return out;
}

Napi::Value DropPrivileges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw_error(env, {"ERR_INVALID_OPTION", "dropPrivileges(user) expects a user name"});
    return env.Undefined();
  }
  CaptureError err = tcpcast::drop_privileges(info[0].As<Napi::String>().Utf8Value());
  if (!err.ok()) throw_error(env, err);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData;
  env.SetInstanceData(data);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  exports.Set("listDevices", Napi::Function::New(env, ListDevices));
  exports.Set("dropPrivileges", Napi::Function::New(env, DropPrivileges));
  exports.Set("pcapVersion", Napi::String::New(env, tcpcast::pcap_version()));
  exports.Set("schema", schema_object(env));
  exports.Set("CaptureHandle", CaptureHandle::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tcpcast, Init)
