#!/usr/bin/env bash
# Installs the system packages tcpcast builds against and tests with (Debian 12 / Ubuntu), without starting their daemons.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "setup.sh: run as root (sudo)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
# apt would start influxdb/victoria-metrics on 0.0.0.0; tests start their own on 127.0.0.1.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1; fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
# build: g++, make, python3 (node-gyp), libpcap-dev
# runtime: libpcap, iproute2, ethtool
# tests and benchmarks: tshark (reference metrics), tcpdump, tcptrace, tcpreplay, iperf3, clang (libFuzzer/ASan),
#   valgrind, victoria-metrics (InfluxDB v2 write API), influxdb 1.x (v1 API), chromium (dashboard test)
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get install -y -qq --no-install-recommends \
  g++ make python3 libpcap-dev libpcap0.8 iproute2 ethtool procps util-linux \
  tshark tcpdump tcptrace tcpreplay iperf3 time clang libclang-rt-14-dev valgrind \
  victoria-metrics influxdb chromium fonts-dejavu-core ca-certificates >/dev/null
# Make sure neither database is left running from an earlier install.
for svc in influxdb victoria-metrics; do systemctl stop "$svc" 2>/dev/null || true; done
echo "setup.sh: system packages ready"
