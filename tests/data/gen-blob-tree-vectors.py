#!/usr/bin/env python3
"""Writes blob-tree-vectors.json: an independent (hashlib) computation of
the blob id rules of host/blob/mero-blob-tree.h (256 KiB chunks, leaf =
sha256(0x00 || chunk), RFC 6962 tree with inner = sha256(0x01 || l || r),
an empty blob is one empty chunk).  Data of a case is byte i = (i*31 + 7)
mod 256.  Re-run only when the rules change on purpose."""
import hashlib, json, os

CHUNK = 256 * 1024

def h(b): return hashlib.sha256(b).digest()

def data(size): return bytes(((i * 31 + 7) & 0xff) for i in range(size))

def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))

cases = []
for size in [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK,
             5 * CHUNK + 123, 7 * CHUNK, 8 * CHUNK, 9 * CHUNK - 1]:
    d = data(size)
    chunks = [d[i:i + CHUNK] for i in range(0, len(d), CHUNK)] or [b""]
    leaves = [h(b"\x00" + c) for c in chunks]
    cases.append({"size": size, "leaves": [l.hex() for l in leaves], "id": mth(leaves).hex()})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "blob-tree-vectors.json")
with open(out, "w") as f:
    json.dump({"chunk_size": CHUNK, "cases": cases}, f, indent=1)
    f.write("\n")
