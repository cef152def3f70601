#!/usr/bin/env bash
# By hand, not in CI: times netsniff beside tshark and tcpdump on one big capture, in the same
# run, with each tool's peak memory (/usr/bin/time -v), and keeps the raw results under
# benches/runs/<date>-<machine>/ (ripgrep's benchsuite habit): raw.csv, summary, SETUP.
#
#   benches/compare/run.sh [BIG] [RUNS]
#
# BIG defaults to /work/big/bench-1g.pcap (python3 ../shared/tools/pcap-amplify.py
# ../shared/bench/base.pcap 53 BIG: 2.49 M packets of real traffic). RUNS (default 1) repeats
# the netsniff and tcpdump commands; tshark runs once (it needs minutes and GBs). Output goes
# to /dev/null for every tool. Run on a quiet machine: each command is timed wall-clock.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIG=${1:-/work/big/bench-1g.pcap}
RUNS=${2:-1}
NS=target/release/netsniff
cargo build --release --quiet
command -v tshark >/dev/null || { echo "tshark is not installed" >&2; exit 2; }
command -v tcpdump >/dev/null || { echo "tcpdump is not installed" >&2; exit 2; }
FIELDS=(-e frame.number -e frame.time_epoch -e ip.src -e ip.dst -e ip.proto -e tcp.srcport
        -e tcp.dstport -e udp.srcport -e udp.dstport -e frame.len)
OUT=benches/runs/$(date -u +%Y-%m-%d)-$(hostname -s)
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
} > "$OUT/SETUP"

echo "tool,what,run,seconds,max_rss_kb" > "$OUT/raw.csv"
measure() { # NAME WHAT RUN CMD...
  local name=$1 what=$2 run=$3
  shift 3
  /usr/bin/time -v -o "$OUT/time.tmp" "$@" > /dev/null 2> /dev/null || true
  local secs rss
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$OUT/time.tmp")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/time.tmp")
  echo "$name,$what,$run,$secs,$rss" | tee -a "$OUT/raw.csv"
}
# Warm the page cache so every tool reads from memory.
cat "$BIG" > /dev/null
for run in $(seq 1 "$RUNS"); do
  measure netsniff fields "$run" "$NS" -r "$BIG" -T fields "${FIELDS[@]}"
  measure netsniff summary "$run" "$NS" -r "$BIG" -P
  measure tcpdump summary "$run" env TZ=UTC tcpdump -nn -r "$BIG"
done
measure tshark fields 1 tshark -n -r "$BIG" -T fields "${FIELDS[@]}"
rm -f "$OUT/time.tmp"

# Best of the runs for each (tool, what), and the ratios the foundation issue sets targets for.
awk -F, 'NR > 1 {
    k = $1 "," $2
    if (!(k in best) || $4 < best[k]) best[k] = $4
    if ($5 > rss[k]) rss[k] = $5
  }
  END {
    for (k in best) printf "%-18s %8.2f s  %8.1f MB peak\n", k, best[k], rss[k] / 1024
    if (best["netsniff,fields"] > 0)
      printf "-T fields: netsniff is %.1fx faster than tshark (target >= 50x)\n", best["tshark,fields"] / best["netsniff,fields"]
    if (best["netsniff,summary"] > 0)
      printf "-P: netsniff is %.1fx faster than tcpdump (target >= 5x)\n", best["tcpdump,summary"] / best["netsniff,summary"]
    printf "netsniff peak memory: %.1f MB (target <= 64 MB)\n", (rss["netsniff,fields"] > rss["netsniff,summary"] ? rss["netsniff,fields"] : rss["netsniff,summary"]) / 1024
  }' "$OUT/raw.csv" | sort | tee "$OUT/summary"
echo "results in $OUT"
