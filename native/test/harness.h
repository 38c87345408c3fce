// A tiny assertion harness and packet builders for the native unit tests (no dependencies beyond the STL).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace tt {

struct TestCase {
  const char* name;
  void (*fn)();
};
std::vector<TestCase>& registry();
extern int g_failures;  // failed checks in the running test

struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back(TestCase{name, fn}); }
};

#define TEST(name)                                      \
  static void test_##name();                            \
  static tt::Register register_##name(#name, test_##name); \
  static void test_##name()

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);     \
      tt::g_failures++;                                                                   \
    }                                                                                     \
  } while (0)

#define CHECK_EQ(a, b)                                                                                 \
  do {                                                                                                 \
    auto va_ = (a);                                                                                    \
    auto vb_ = (b);                                                                                    \
    if (!(va_ == vb_)) {                                                                               \
      std::fprintf(stderr, "  %s:%d: CHECK_EQ(%s, %s) failed: %lld vs %lld\n", __FILE__, __LINE__, #a, #b, \
                   (long long)va_, (long long)vb_);                                                    \
      tt::g_failures++;                                                                                \
    }                                                                                                  \
  } while (0)

#define CHECK_NEAR(a, b, eps)                                                                           \
  do {                                                                                                  \
    double va_ = (a);                                                                                   \
    double vb_ = (b);                                                                                   \
    if (!(va_ - vb_ <= (eps) && vb_ - va_ <= (eps))) {                                                  \
      std::fprintf(stderr, "  %s:%d: CHECK_NEAR(%s, %s) failed: %.9g vs %.9g\n", __FILE__, __LINE__, #a, #b, \
                   va_, vb_);                                                                           \
      tt::g_failures++;                                                                                 \
    }                                                                                                   \
  } while (0)

// ---- packet builders -------------------------------------------------------------------------------------

using Bytes = std::vector<uint8_t>;

// memcpy with an empty vector passes a null pointer (UB even for 0 bytes).
inline void copy_in(uint8_t* dst, const Bytes& src) {
  if (!src.empty()) std::memcpy(dst, src.data(), src.size());
}

inline void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline void put32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

struct Seg {
  int ip_version = 4;
  uint8_t src[16] = {10, 0, 0, 1};
  uint8_t dst[16] = {10, 0, 0, 2};
  uint16_t sport = 40000;
  uint16_t dport = 5201;
  uint32_t seq = 1000;
  uint32_t ack = 0;
  uint16_t flags = 0x10;  // ACK
  uint16_t window = 1000;
  uint32_t payload = 0;
  Bytes options;          // raw TCP option bytes (padded to 4 by the builder)
};

// Reverses a segment's endpoints (for building the other direction).
inline Seg reversed(const Seg& s) {
  Seg r = s;
  std::memcpy(r.src, s.dst, 16);
  std::memcpy(r.dst, s.src, 16);
  r.sport = s.dport;
  r.dport = s.sport;
  return r;
}

inline Bytes opt_ts(uint32_t tsval, uint32_t tsecr) {
  Bytes o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
  put32(o, 4, tsval);
  put32(o, 8, tsecr);
  return o;
}
inline Bytes opt_sack(const std::vector<std::pair<uint32_t, uint32_t>>& blocks) {
  Bytes o = {1, 1, 5, static_cast<uint8_t>(2 + 8 * blocks.size())};
  for (auto& b : blocks) {
    size_t at = o.size();
    o.resize(at + 8);
    put32(o, at, b.first);
    put32(o, at + 4, b.second);
  }
  return o;
}

inline Bytes tcp_header(const Seg& s) {
  Bytes opts = s.options;
  while (opts.size() % 4) opts.push_back(0);
  Bytes t(20 + opts.size() + s.payload, 0);
  put16(t, 0, s.sport);
  put16(t, 2, s.dport);
  put32(t, 4, s.seq);
  put32(t, 8, s.ack);
  t[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
  t[13] = static_cast<uint8_t>(s.flags);
  put16(t, 14, s.window);
  copy_in(t.data() + 20, opts);
  for (uint32_t i = 0; i < s.payload; i++) t[20 + opts.size() + i] = static_cast<uint8_t>(i);
  return t;
}

// IPv4 packet around l4; ip_options must be a multiple of 4 bytes. frag = flags/offset word.
inline Bytes ipv4(const Seg& s, const Bytes& l4, uint8_t proto = 6, const Bytes& ip_options = {}, uint16_t frag = 0) {
  size_t ihl = 20 + ip_options.size();
  Bytes p(ihl + l4.size(), 0);
  p[0] = static_cast<uint8_t>(0x40 | (ihl / 4));
  put16(p, 2, static_cast<uint16_t>(p.size()));
  put16(p, 6, frag);
  p[8] = 64;
  p[9] = proto;
  std::memcpy(p.data() + 12, s.src, 4);
  std::memcpy(p.data() + 16, s.dst, 4);
  copy_in(p.data() + 20, ip_options);
  copy_in(p.data() + ihl, l4);
  return p;
}

// IPv6 packet; ext is a list of (header type, body) where body excludes the next-header byte.
inline Bytes ipv6(const Seg& s, const Bytes& l4, uint8_t proto = 6,
                  const std::vector<std::pair<uint8_t, Bytes>>& ext = {}) {
  Bytes chain;
  for (size_t i = 0; i < ext.size(); i++) {
    uint8_t next = i + 1 < ext.size() ? ext[i + 1].first : proto;
    chain.push_back(next);
    chain.insert(chain.end(), ext[i].second.begin(), ext[i].second.end());
  }
  Bytes p(40 + chain.size() + l4.size(), 0);
  p[0] = 0x60;
  put16(p, 4, static_cast<uint16_t>(chain.size() + l4.size()));
  p[6] = ext.empty() ? proto : ext[0].first;
  p[7] = 64;
  std::memcpy(p.data() + 8, s.src, 16);
  std::memcpy(p.data() + 24, s.dst, 16);
  copy_in(p.data() + 40, chain);
  copy_in(p.data() + 40 + chain.size(), l4);
  return p;
}

inline Bytes ip_packet(const Seg& s) { return s.ip_version == 4 ? ipv4(s, tcp_header(s)) : ipv6(s, tcp_header(s)); }

inline Bytes ether(const Bytes& l3, uint16_t type, const std::vector<uint16_t>& tags = {}) {
  Bytes f(12, 0xaa);
  for (uint16_t tpid : tags) {
    f.push_back(static_cast<uint8_t>(tpid >> 8));
    f.push_back(static_cast<uint8_t>(tpid));
    f.push_back(0x00);
    f.push_back(0x07);  // VLAN id 7
  }
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  f.insert(f.end(), l3.begin(), l3.end());
  return f;
}

inline Bytes eth_frame(const Seg& s) { return ether(ip_packet(s), s.ip_version == 4 ? 0x0800 : 0x86dd); }

inline Seg v6(Seg s) {
  s.ip_version = 6;
  uint8_t a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  std::memcpy(s.src, a, 16);
  std::memcpy(s.dst, b, 16);
  return s;
}

}  // namespace tt
