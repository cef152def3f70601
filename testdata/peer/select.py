#!/usr/bin/env python3
"""Copies the robustness corpus from ../shared/peer-captures into testdata/peer/.

Rule (see README.md): permissively licensed sets only; every file tshark cannot read or marks
malformed; every file of a link type and protocols netsniff dissects up to 50 kB; HTTP/2,
WebSocket, gRPC up to 600 kB and QUIC up to 300 kB, as they are rare. MANIFEST.tsv rows and
licence files come along.

Usage: testdata/peer/select.py [PEER_DIR]   (default ../shared/peer-captures)
"""
import csv
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "peer-captures")
PERMISSIVE = {"tcpdump", "libpcap", "pcapng-test-generator", "pcap-parser", "gopacket", "termshark",
              "rust-pcap", "arkime", "dpkt", "grpc-go-for-professionals", "pcapplusplus", "zeek",
              "suricata-verify"}
LINK_TYPES = {"ether", "null", "linux-sll", "linux-sll2", "rawip", "rawip4", "rawip6", "per-packet", "-"}
PROTOCOLS = ["dns", "tls", "http", "http2", "websocket", "quic", "icmp", "icmpv6", "arp", "vlan", "ipv6", "grpc"]
RARE_LIMIT = {"http2": 600_000, "websocket": 600_000, "grpc": 600_000, "quic": 300_000}
SMALL = 50_000


def wanted(r):
    size = int(r["size_bytes"])
    if r["robustness_only"] == "yes" or r["tshark_reads"] != "yes":
        return True
    layers = r["phs_protocols"].split(",")
    relevant = any(int(r[p] or 0) > 0 for p in PROTOCOLS) or "tcp" in layers or "udp" in layers
    if r["link_type"] not in LINK_TYPES or not relevant:
        return False
    if size <= SMALL:
        return True
    return any(int(r[p] or 0) > 0 and size <= limit for p, limit in RARE_LIMIT.items())


def main():
    with open(os.path.join(PEER, "MANIFEST.tsv"), newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        header = reader.fieldnames
        rows = [r for r in reader if r["project"] in PERMISSIVE and wanted(r)]
    total = 0
    for r in rows:
        dst = os.path.join(HERE, r["file"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(PEER, r["file"]), dst)
        total += int(r["size_bytes"])
    for project in sorted({r["project"] for r in rows}):
        for name in os.listdir(os.path.join(PEER, project)):
            if name.upper().startswith(("LICENSE", "COPYING", "LICENCE", "UNLICENSE")):
                shutil.copyfile(os.path.join(PEER, project, name), os.path.join(HERE, project, name))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} files, {total} bytes")


if __name__ == "__main__":
    main()
