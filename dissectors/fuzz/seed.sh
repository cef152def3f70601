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

# corpus/stream/: the first bytes of each direction of the bundled captures' TCP streams, as
# `stream` inputs (tests/harness/mod.rs): dissector pick, flags, direction split, no cut points.
mkdir -p corpus/stream corpus/hpack
python3 - <<'PY'
import subprocess, os
# registry order of proto::STREAM: http, websocket, http2, tls, dns, quic
caps = {"http1": (0, []), "websocket": (0, []), "http2-h2c": (2, []), "sse": (0, []),
        "grpc": (2, ["-d", "tcp.port==50051,http2"]), "tls12": (3, []), "tls13": (3, []),
        "mtls": (3, []), "dns": (4, [])}
n = 0
for name, (pick, args) in caps.items():
    path = next((f"../../testdata/captures/{name}.{e}" for e in ("pcap", "pcapng")
                 if os.path.exists(f"../../testdata/captures/{name}.{e}")), None)
    if not path:
        continue
    for stream in range(4):
        out = subprocess.run(["tshark", "-r", path, *args, "-q", "-z", f"follow,tcp,raw,{stream}"],
                             capture_output=True, text=True).stdout
        dirs = [bytearray(), bytearray()]
        for line in out.splitlines():
            if not line.strip() or line.startswith(("=", "Follow", "Filter", "Node")):
                continue
            side = 1 if line.startswith("\t") else 0
            try:
                dirs[side] += bytes.fromhex(line.strip())
            except ValueError:
                pass
        c, s = bytes(dirs[0][:3000]), bytes(dirs[1][:3000])
        if not c and not s:
            continue
        split = min(255, -(-len(c) * 256 // max(1, len(c) + len(s))))
        with open(f"corpus/stream/{name}-{stream}", "wb") as f:
            f.write(bytes([pick, 0, split, 0]) + c + s)
        n += 1
print(n, "streams seeded")
# corpus/hpack/: RFC 7541 Appendix C blocks (C.4.1 to C.4.3 as one connection, Huffman).
blocks = ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
          "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]
for i, b in enumerate(blocks):
    data = bytes.fromhex(b)
    with open(f"corpus/hpack/rfc7541-c4-{i}", "wb") as f:
        f.write(bytes([0, 0, 255]) + data)
PY
