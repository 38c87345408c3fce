#!/usr/bin/env bash
# Makes real-kernel TCP captures for the tshark comparison: iperf3 over a veth pair between two network
# namespaces (tce-a, tce-b), offloads off, a tbf qdisc on the sender for queueing and losses.
# Usage: make-captures.sh OUTDIR  (root; writes OUTDIR/{reno,cubic,bbr}{,-v6}.pcap and any-sll2.pcap, `-i any`)
set -euo pipefail
out=${1:?usage: make-captures.sh OUTDIR}
mkdir -p "$out"
cleanup() {
  [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
  [ -n "${cap:-}" ] && kill "$cap" 2>/dev/null || true
  ip netns del tce-a 2>/dev/null || true
  ip netns del tce-b 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add tce-a
ip netns add tce-b
ip link add tce-va type veth peer name tce-vb
ip link set tce-va netns tce-a
ip link set tce-vb netns tce-b
ip -n tce-a addr add 10.77.0.1/24 dev tce-va
ip -n tce-b addr add 10.77.0.2/24 dev tce-vb
ip -n tce-a addr add fd77::1/64 dev tce-va nodad
ip -n tce-b addr add fd77::2/64 dev tce-vb nodad
for ns in a b; do
  ip -n tce-$ns link set lo up
  ip -n tce-$ns link set tce-v$ns up
  ip netns exec tce-$ns ethtool -K tce-v$ns tso off gso off gro off >/dev/null 2>&1 || true
done
ip netns exec tce-a tc qdisc add dev tce-va root tbf rate ${TBF_RATE:-50mbit} burst 32kbit latency ${TBF_LATENCY:-20ms}
for cc in reno cubic bbr; do
  for fam in 4 6; do
    dst=10.77.0.2; name=$cc
    if [ $fam = 6 ]; then dst=fd77::2; name=$cc-v6; fi
    ip netns exec tce-b iperf3 -s -1 >/dev/null 2>&1 &
    srv=$!
    ip netns exec tce-a tcpdump -i tce-va -s 200 --time-stamp-precision nano -w "$out/$name.pcap" -U 2>/dev/null &
    cap=$!
    sleep 0.5
    ip netns exec tce-a iperf3 -c $dst -C $cc -P 3 -t ${SECONDS_PER_RUN:-3} >/dev/null 2>&1 || echo "iperf3 $cc v$fam failed" >&2
    sleep 0.3
    kill $cap; wait $cap 2>/dev/null || true
    wait $srv 2>/dev/null || true
    cap=; srv=
  done
done
# `-i any` gives Linux cooked v2 headers (SLL2) on libpcap >= 1.10.
ip netns exec tce-b iperf3 -s -1 >/dev/null 2>&1 &
srv=$!
ip netns exec tce-a tcpdump -i any -s 200 --time-stamp-precision nano -w "$out/any-sll2.pcap" -U 2>/dev/null &
cap=$!
sleep 0.5
ip netns exec tce-a iperf3 -c 10.77.0.2 -C cubic -P 2 -t ${SECONDS_PER_RUN:-3} >/dev/null 2>&1 || echo "iperf3 any failed" >&2
sleep 0.3
kill $cap; wait $cap 2>/dev/null || true
wait $srv 2>/dev/null || true
cap=; srv=
ls -la "$out"
