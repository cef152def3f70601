#!/usr/bin/env bash
# By hand, not in CI: times netsniff beside tshark, tcpdump and a bare libpcap read loop
# (examples/pcap_read_loop.rs) on one big capture, in the same run, with each tool's peak memory (/usr/bin/time -v), and keeps the raw results under
# benches/runs/<date>-<machine>/ (ripgrep's benchsuite habit): raw.csv, summary, SETUP.
#
#   benches/compare/run.sh [BIG] [RUNS]
#
# BIG defaults to /work/big/bench-1g.pcap (python3 ../shared/tools/pcap-amplify.py
# ../shared/bench/base.pcap 53 BIG: 2.49 M packets of real traffic). RUNS (default 1) repeats
# the netsniff and tcpdump commands; tshark runs once (it needs minutes and GBs). OUT= names
# another results directory (a second run the same day). Output goes
# to /dev/null for every tool. Run on a quiet machine: each command is timed wall-clock.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIG=${1:-/work/big/bench-1g.pcap}
RUNS=${2:-1}
NS=target/release/netsniff
cargo build --release --quiet --bin netsniff --example pcap_read_loop
LOOP=target/release/examples/pcap_read_loop
command -v tshark >/dev/null || { echo "tshark is not installed" >&2; exit 2; }
command -v tcpdump >/dev/null || { echo "tcpdump is not installed" >&2; exit 2; }
FIELDS=(-e frame.number -e frame.time_epoch -e ip.src -e ip.dst -e ip.proto -e tcp.srcport
        -e tcp.dstport -e udp.srcport -e udp.dstport -e frame.len)
# Application-layer fields (issue 4's second -T fields run).
APP_FIELDS=(-e frame.number -e dns.qry.name -e tls.handshake.extensions_server_name
            -e http.request.uri -e http2.header.value)
OUT=${OUT:-benches/runs/$(date -u +%Y-%m-%d)-$(hostname -s)}
mkdir -p "$OUT"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "file: $BIG ($(stat -c %s "$BIG") bytes, $(capinfos -c -M "$BIG" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') packets)"
  echo "netsniff: $(git rev-parse --short HEAD) $($NS --version)"
  echo "tshark: $(tshark --version 2>/dev/null | head -1)"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "memory: $(free -m | awk '/Mem:/ {print $2}') MB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "fields: ${FIELDS[*]}"
  echo "app fields: ${APP_FIELDS[*]}"
} > "$OUT/SETUP"

echo "tool,what,run,seconds,max_rss_kb,cpu_seconds" > "$OUT/raw.csv"
measure() { # NAME WHAT RUN CMD...
  local name=$1 what=$2 run=$3
  shift 3
  /usr/bin/time -v -o "$OUT/time.tmp" "$@" > /dev/null 2> /dev/null || true
  local secs rss
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$OUT/time.tmp")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/time.tmp")
  # User + system time: the fairer figure when the machine is not quiet.
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$OUT/time.tmp")
  echo "$name,$what,$run,$secs,$rss,$cpu" | tee -a "$OUT/raw.csv"
}
# Warm the page cache so every tool reads from memory.
cat "$BIG" > /dev/null
for run in $(seq 1 "$RUNS"); do
  measure libpcap readloop "$run" "$LOOP" "$BIG"
  measure netsniff fields "$run" "$NS" -r "$BIG" -T fields "${FIELDS[@]}"
  measure netsniff summary "$run" "$NS" -r "$BIG" -P
  measure netsniff phs "$run" "$NS" -r "$BIG" -q -z io,phs
  measure netsniff appfields "$run" "$NS" -r "$BIG" -T fields "${APP_FIELDS[@]}"
  measure netsniff conv "$run" "$NS" -r "$BIG" -q -z conv,tcp
  measure netsniff flows "$run" "$NS" flows -r "$BIG"
  measure tcpdump summary "$run" env TZ=UTC tcpdump -nn -r "$BIG"
done
if [ "${SKIP_TSHARK:-}" != 1 ]; then
  measure tshark fields 1 tshark -n -r "$BIG" -T fields "${FIELDS[@]}"
  measure tshark phs 1 tshark -n -q -z io,phs -r "$BIG"
  measure tshark appfields 1 tshark -n -r "$BIG" -T fields "${APP_FIELDS[@]}"
  measure tshark conv 1 tshark -n -q -z conv,tcp -r "$BIG"
fi
rm -f "$OUT/time.tmp"

# Best of the runs for each (tool, what), and the ratios the foundation issue sets targets for.
awk -F, 'function ratio(label, theirs, ours, target) {
    if (best[ours] > 0 && best[theirs] > 0)
      printf "%s: netsniff is %.1fx faster (target %s)\n", label, best[theirs] / best[ours], target
  }
  NR > 1 {
    k = $1 "," $2
    if (!(k in best) || $4 < best[k]) best[k] = $4
    if ($5 > rss[k]) rss[k] = $5
    if (!(k in cpu) || $6 < cpu[k]) cpu[k] = $6
  }
  END {
    for (k in best) printf "%-18s %8.2f s wall  %8.2f s cpu  %8.1f MB peak\n", k, best[k], cpu[k], rss[k] / 1024
    ratio("-T fields", "tshark,fields", "netsniff,fields", ">= 50x faster than tshark")
    ratio("-P", "tcpdump,summary", "netsniff,summary", ">= 5x faster than tcpdump")
    ratio("-q -z io,phs", "tshark,phs", "netsniff,phs", ">= 40x faster than tshark")
    ratio("-T fields (application fields)", "tshark,appfields", "netsniff,appfields", ">= 50x faster than tshark")
    ratio("-q -z conv,tcp", "tshark,conv", "netsniff,conv", ">= 40x faster than tshark")
    ratio("netsniff flows vs tshark -z conv,tcp", "tshark,conv", "netsniff,flows", ">= 40x faster than tshark")
    if (best["libpcap,readloop"] > 0) {
      printf "-q -z io,phs takes %.2fx the bare libpcap read loop (target <= 2x)\n", best["netsniff,phs"] / best["libpcap,readloop"]
      printf "-T fields (application fields) takes %.2fx the bare libpcap read loop (target <= 2x)\n", best["netsniff,appfields"] / best["libpcap,readloop"]
    }
    peak = 0
    for (k in rss) if (k ~ /^netsniff,/ && k != "netsniff,conv" && k != "netsniff,flows" && rss[k] > peak) peak = rss[k]
    printf "netsniff peak memory, packet outputs: %.1f MB (target <= 64 MB)\n", peak / 1024
    printf "netsniff peak memory, conversation tables: %.1f MB (target < 256 MB)\n", (rss["netsniff,conv"] > rss["netsniff,flows"] ? rss["netsniff,conv"] : rss["netsniff,flows"]) / 1024
  }' "$OUT/raw.csv" | sort | tee "$OUT/summary"
echo "results in $OUT"
