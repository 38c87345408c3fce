/* The floor for offline benchmarks: read every frame with libpcap, parse Ethernet/IPv4/IPv6/TCP headers, count packets per 5-tuple in a hash table.
 *
 * Anything that computes per-flow metrics must do at least this much work per packet, so its packets/s
 * over this loop's packets/s is the cost of the metrics themselves. Built by the bench harness with
 *   cc -O2 -o bench/out/bare_loop bench/peers/bare_loop.c -lpcap
 * Usage: bare_loop FILE.pcap   (prints "frames tcp_packets flows" on stdout)
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_SLOTS (1u << 16) /* power of two; open addressing with linear probing */
#define MAX_FLOWS (TABLE_SLOTS / 2) /* beyond this, new flows are not counted: the probe loop must find a free slot */

struct flow_key {
  uint8_t src[16], dst[16];
  uint16_t sport, dport;
  uint8_t version;
};

struct slot {
  struct flow_key key;
  uint64_t packets;
  uint8_t used;
};

static struct slot *table;
static uint64_t frames, tcp_packets, flows;

static uint64_t hash_key(const struct flow_key *k) {
  /* FNV-1a over the key bytes: cheap and good enough for a table of at most a few thousand flows. */
  const uint8_t *p = (const uint8_t *)k;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void count_flow(const struct flow_key *k) {
  uint64_t i = hash_key(k) & (TABLE_SLOTS - 1);
  for (;;) {
    struct slot *s = &table[i];
    if (!s->used) {
      if (flows >= MAX_FLOWS) return;
      s->used = 1;
      s->key = *k;
      s->packets = 1;
      flows++;
      return;
    }
    if (memcmp(&s->key, k, sizeof *k) == 0) {
      s->packets++;
      return;
    }
    i = (i + 1) & (TABLE_SLOTS - 1);
  }
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *p) {
  (void)user;
  frames++;
  uint32_t len = h->caplen, off = 14;
  if (len < off) return;
  uint16_t ethertype = (uint16_t)(p[12] << 8 | p[13]);
  if (ethertype == 0x8100 && len >= 18) { /* one VLAN tag */
    ethertype = (uint16_t)(p[16] << 8 | p[17]);
    off = 18;
  }
  struct flow_key k;
  memset(&k, 0, sizeof k);
  uint8_t proto;
  if (ethertype == 0x0800) {
    if (len < off + 20) return;
    const u_char *ip = p + off;
    uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    if (ihl < 20 || len < off + ihl + 20) return;
    if ((ip[6] & 0x1f) != 0 || ip[7] != 0) return; /* fragment */
    proto = ip[9];
    memcpy(k.src, ip + 12, 4);
    memcpy(k.dst, ip + 16, 4);
    k.version = 4;
    off += ihl;
  } else if (ethertype == 0x86dd) {
    if (len < off + 40 + 20) return;
    const u_char *ip = p + off;
    proto = ip[6]; /* extension headers are not followed: the floor does the common case only */
    memcpy(k.src, ip + 8, 16);
    memcpy(k.dst, ip + 24, 16);
    k.version = 6;
    off += 40;
  } else {
    return;
  }
  if (proto != 6) return;
  const u_char *tcp = p + off;
  k.sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
  k.dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
  tcp_packets++;
  count_flow(&k);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *pc = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
  if (!pc) {
    fprintf(stderr, "bare_loop: %s\n", err);
    return 1;
  }
  table = calloc(TABLE_SLOTS, sizeof *table);
  if (!table) {
    fprintf(stderr, "bare_loop: out of memory\n");
    return 1;
  }
  if (pcap_loop(pc, -1, on_packet, NULL) == PCAP_ERROR) {
    fprintf(stderr, "bare_loop: %s\n", pcap_geterr(pc));
    return 1;
  }
  pcap_close(pc);
  printf("%llu %llu %llu\n", (unsigned long long)frames, (unsigned long long)tcp_packets, (unsigned long long)flows);
  return 0;
}
