#!/usr/bin/env bash
# Seeds corpus/frame/ with every frame of the bundled captures, prefixed with the byte that
# selects its link type in fuzz_targets/frame.rs (the index of the link type among the
# registered ones is found by trying: the seed's first byte only needs to map to the right one,
# so the capture's frames are written once per link-type byte 0..15).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/frame
python3 - <<'PY'
import glob, os, struct
n = 0
for path in glob.glob("../../testdata/captures/*.pcap"):
    data = open(path, "rb").read()
    if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        continue
    at = 24
    while at + 16 <= len(data) and n < 300:
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        frame = data[at + 16: at + 16 + caplen]
        at += 16 + caplen
        for pick in range(16):
            with open(f"corpus/frame/{os.path.basename(path)}-{at}-{pick}", "wb") as f:
                f.write(bytes([pick]) + frame)
        n += 1
print(n, "frames seeded")
PY
