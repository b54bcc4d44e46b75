#!/usr/bin/env python3
"""Writes entity-hash-vectors.json: an independent (hashlib) computation of
the entity tree hash rules of DESIGN §8, which the C implementation must
reproduce bit for bit.  Re-run only when the rules change on purpose."""
import hashlib, json

def h(b): return hashlib.sha256(b).digest()
def eid(name): return h(b"mero/test-entity/" + name.encode())

def full_hash(ents, e):
    kids = sorted((c for c in ents if c["parent"] == e["id"] and not c["deleted"]),
                  key=lambda c: c["id"])
    acc = h(e["data"])
    return h(acc + b"".join(full_hash(ents, c) for c in kids))

def tree(name, spec):
    ents = []
    for (n, parent, data, deleted) in spec:
        ents.append({"id": eid(n), "parent": eid(parent) if parent else None,
                     "data": data, "deleted": deleted})
    root = [e for e in ents if e["parent"] is None][0]
    return {"name": name,
            "entities": [{"id": e["id"].hex(), "parent": e["parent"].hex() if e["parent"] else None,
                          "data": e["data"].hex(), "deleted": e["deleted"]} for e in ents],
            "root_hash": full_hash(ents, root).hex()}

own = [{"data": d.hex(), "own_hash": h(d).hex()}
       for d in [b"", b"a", b"hello world", bytes(range(256))]]
trees = [
    tree("root only", [("root", None, b"", False)]),
    tree("root with data", [("root", None, b"state", False)]),
    tree("three children, inserted unsorted", [
        ("root", None, b"r", False), ("c", "root", b"3", False),
        ("a", "root", b"1", False), ("b", "root", b"2", False)]),
    tree("nested depth 3", [
        ("root", None, b"", False), ("m", "root", b"map", False),
        ("m/k1", "m", b"v1", False), ("m/k2", "m", b"v2", False),
        ("m/k1/x", "m/k1", b"deep", False)]),
    tree("tombstoned child left out", [
        ("root", None, b"", False), ("a", "root", b"1", False),
        ("gone", "root", b"old", True)]),
    tree("tombstoned subtree left out", [
        ("root", None, b"", False), ("a", "root", b"1", False),
        ("gone", "root", b"old", True), ("gone/child", "gone", b"x", False)]),
]
json.dump({"own": own, "trees": trees}, open("entity-hash-vectors.json", "w"), indent=1)
