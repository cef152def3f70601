#!/bin/bash
# Regenerate tshark's full trees of the first frames of each capture, for tests/tree.rs:
#   bash recipes/make-tree-oracle.sh SETDIR
# Reads oracle-tree/FRAMES (NAME COUNT JSON? per line) and writes, WITHOUT TLS keys,
#   oracle-tree/NAME.txt   tshark -n -V -c COUNT
#   oracle-tree/NAME.json  tshark -n -T json -c COUNT   (only where the third column says json)
set -euo pipefail
SETDIR="${1:?usage: make-tree-oracle.sh SETDIR}"
cd "$SETDIR"
T() { tshark "$@" 2> >(grep -v 'Running as user' >&2); }
grep -v '^#' oracle-tree/FRAMES | while read -r NAME COUNT JSON; do
  [ -n "$NAME" ] || continue
  CAP=""
  for ext in pcap pcapng; do [ -f "captures/$NAME.$ext" ] && CAP="captures/$NAME.$ext"; done
  ARGS=()
  if [ -f "oracle/$NAME.tshark-args" ]; then mapfile -t ARGS < <(grep -v '^[[:space:]]*$' "oracle/$NAME.tshark-args"); fi
  T -n -r "$CAP" ${ARGS[@]+"${ARGS[@]}"} -c "$COUNT" -V > "oracle-tree/$NAME.txt"
  if [ "${JSON:-}" = json ]; then
    T -n -r "$CAP" ${ARGS[@]+"${ARGS[@]}"} -c "$COUNT" -T json > "oracle-tree/$NAME.json"
  fi
  echo "tree oracle for $NAME: $COUNT frames"
done
