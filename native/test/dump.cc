// tcpcast-dump FILE: runs the Engine over a pcap/pcapng and prints tshark-compatible TSV, to compare with
// `tshark -r FILE -Y tcp -T fields -e frame.number -e frame.time_epoch -e tcp.stream -e ip.src -e tcp.srcport
//  -e ip.dst -e tcp.dstport -e tcp.len -e tcp.analysis.ack_rtt -e tcp.analysis.bytes_in_flight`.
// IPv6 addresses go in the ip.src/ip.dst columns (tshark would print them in ipv6.src/ipv6.dst).
// With --counters, the engine counters go to stderr; --ts-rtt appends a column with the TSval/TSecr RTT,
// --retrans one with the retransmission flag (0/1). With --windows [WINDOW_MS], window records are printed
// instead of packets: window_end_ns, series key, then the WindowRecord value columns.
// With --bench N, the file is loaded into memory and run through a windows-only Engine N times; the packet
// rate goes to stdout (the per-packet cost without I/O, for bench/).
#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <chrono>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "../engine.h"

using namespace tcpcast;

namespace {

// tshark prints relative times as seconds with 9 decimals ("0.000123000").
void put_seconds(char* buf, size_t n, int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  uint64_t a = ns < 0 ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  snprintf(buf, n, "%s%" PRIu64 ".%09" PRIu64, sign, a / 1000000000u, a % 1000000000u);
}

struct Frame {
  int64_t ts_ns;
  uint32_t wirelen;
  std::string bytes;
};

int run_bench(pcap_t* pc, int linktype, int rounds) {
  std::vector<Frame> frames;
  struct pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(pc, &h, &data) == 1) {
    frames.push_back(Frame{static_cast<int64_t>(h->ts.tv_sec) * NS_PER_S + h->ts.tv_usec, h->len,
                           std::string(reinterpret_cast<const char*>(data), h->caplen)});
  }
  pcap_close(pc);
  if (frames.empty()) return 1;
  EngineConfig cfg;
  Engine engine(cfg);
  std::vector<WindowRecord> windows;
  int64_t span = frames.back().ts_ns - frames.front().ts_ns + NS_PER_S;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; r++) {
    // Each round is shifted in time so windows and idle eviction behave as in one long capture.
    int64_t shift = r * span;
    for (const Frame& f : frames) {
      engine.process(linktype, reinterpret_cast<const uint8_t*>(f.bytes.data()), static_cast<uint32_t>(f.bytes.size()),
                     f.wirelen, f.ts_ns + shift, 0, nullptr);
    }
    engine.take_windows(&windows);
  }
  engine.finish();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double n = static_cast<double>(frames.size()) * rounds;
  printf("packets=%.0f seconds=%.4f ns_per_packet=%.1f packets_per_second=%.0f windows=%" PRIu64 "\n", n, s,
         s * 1e9 / n, n / s, engine.counters().windows_emitted);
  return 0;
}

void print_window_batch(const std::vector<WindowRecord>& windows, const std::vector<std::string>& keys) {
  for (const WindowRecord& w : windows) {
    printf("%" PRId64 "\t%s\t%.0f\t%.3f\t%.0f\t%.4f\t%.4f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\n",
           w.window_end_ns, w.series < keys.size() ? keys[w.series].c_str() : "?", w.size, w.delay, w.bif, w.iat_mean,
           w.iat_std, w.throughput_mbps, w.delay_gradient, w.bif_gradient, w.is_silent, w.packets, w.retransmits,
           w.min_rtt);
  }
}

int run_windows(pcap_t* pc, int linktype, int64_t window_ns) {
  EngineConfig cfg;
  cfg.window_ns = window_ns;
  Engine engine(cfg);
  std::vector<WindowRecord> windows;
  std::vector<SeriesInfo> series;
  std::vector<std::string> keys;
  printf("window_end_ns\tseries\tsize\tdelay\tbif\tiat_mean\tiat_std\tthroughput_mbps\tdelay_gradient\t"
         "bif_gradient\tis_silent\tpackets\tretransmits\tmin_rtt\n");
  struct pcap_pkthdr* h;
  const u_char* data;
  auto drain = [&]() {
    engine.take_new_series(&series);
    for (const SeriesInfo& s : series) {
      if (keys.size() <= s.index) keys.resize(s.index + 1);
      keys[s.index] = s.key;
    }
    engine.take_windows(&windows);
    print_window_batch(windows, keys);
  };
  while (pcap_next_ex(pc, &h, &data) == 1) {
    engine.process(linktype, data, h->caplen, h->len, static_cast<int64_t>(h->ts.tv_sec) * NS_PER_S + h->ts.tv_usec,
                   0, nullptr);
    drain();
  }
  engine.finish();
  drain();
  pcap_close(pc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* file = nullptr;
  bool counters = false;
  bool ts_rtt = false;
  bool retrans = false;
  bool print_windows = false;
  int64_t window_ms = 50;
  int bench = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--counters")) counters = true;
    else if (!strcmp(argv[i], "--ts-rtt")) ts_rtt = true;
    else if (!strcmp(argv[i], "--retrans")) retrans = true;
    else if (!strcmp(argv[i], "--windows")) {
      print_windows = true;
      if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9') window_ms = atoi(argv[++i]);
    }
    else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench = atoi(argv[++i]);
    else file = argv[i];
  }
  if (!file) {
    fprintf(stderr, "usage: tcpcast-dump [--counters] [--ts-rtt] FILE.pcap\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!pc) {
    fprintf(stderr, "tcpcast-dump: %s\n", err);
    return 1;
  }
  int linktype = pcap_datalink(pc);
  if (bench > 0) return run_bench(pc, linktype, bench);
  if (print_windows) return run_windows(pc, linktype, window_ms * NS_PER_MS);
  EngineConfig cfg;
  cfg.per_packet = true;
  Engine engine(cfg);
  PacketRecord rec;
  struct pcap_pkthdr* h;
  const u_char* data;
  int rc;
  static char out[1 << 16];
  setvbuf(stdout, out, _IOFBF, sizeof out);
  std::vector<WindowRecord> windows;
  while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
    int64_t ts_ns = static_cast<int64_t>(h->ts.tv_sec) * NS_PER_S + h->ts.tv_usec;  // tv_usec holds ns here
    if (!engine.process(linktype, data, h->caplen, h->len, ts_ns, 0, &rec)) continue;
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], rtt[32] = "", bif[24] = "", tsr[32] = "";
    int af = rec.ip_version == 4 ? AF_INET : AF_INET6;
    inet_ntop(af, rec.src, src, sizeof src);
    inet_ntop(af, rec.dst, dst, sizeof dst);
    if (rec.ack_rtt_ns != -1) put_seconds(rtt, sizeof rtt, rec.ack_rtt_ns);
    if (rec.bytes_in_flight >= 0) snprintf(bif, sizeof bif, "%" PRId64, rec.bytes_in_flight);
    if (ts_rtt && rec.ts_rtt_ns >= 0) put_seconds(tsr, sizeof tsr, rec.ts_rtt_ns);
    char stream[16] = "";
    if (rec.stream != 0xffffffffu) snprintf(stream, sizeof stream, "%u", rec.stream);
    printf("%" PRIu64 "\t%" PRId64 ".%09" PRId64 "\t%s\t%s\t%u\t%s\t%u\t%u\t%s\t%s%s%s%s\n", rec.frame_number,
           rec.ts_ns / NS_PER_S, rec.ts_ns % NS_PER_S, stream, src, rec.sport, dst, rec.dport, rec.tcp_len, rtt, bif,
           ts_rtt ? "\t" : "", tsr, retrans ? (rec.retransmission ? "\t1" : "\t0") : "");
    engine.take_windows(&windows);
  }
  engine.finish();
  if (rc == -1) fprintf(stderr, "tcpcast-dump: %s\n", pcap_geterr(pc));
  pcap_close(pc);
  fflush(stdout);
  if (counters) {
    const Counters& c = engine.counters();
    fprintf(stderr,
            "frames=%" PRIu64 " tcp=%" PRIu64 " not_ip=%" PRIu64 " not_tcp=%" PRIu64 " fragments=%" PRIu64
            " truncated=%" PRIu64 " malformed=%" PRIu64 " unsupported_link=%" PRIu64 " flows_created=%" PRIu64
            " evicted_idle=%" PRIu64 " table_full=%" PRIu64 " retransmissions=%" PRIu64 " ack_rtt=%" PRIu64
            " ts_rtt=%" PRIu64 " windows=%" PRIu64 " port_reused=%" PRIu64 "\n",
            c.frames, c.tcp_packets, c.not_ip, c.not_tcp, c.fragments, c.truncated, c.malformed, c.unsupported_link,
            c.flows_created, c.flows_evicted_idle, c.flows_table_full, c.retransmissions, c.ack_rtt_samples,
            c.ts_rtt_samples, c.windows_emitted, c.flows_port_reused);
  }
  return rc == -1 ? 1 : 0;
}
