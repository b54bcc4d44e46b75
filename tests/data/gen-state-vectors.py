#!/usr/bin/env python3
"""Writes state-vectors.json: root hashes of entity trees built through
the merge rules and the two-level bucket layout, computed independently
(hashlib) of the C engine (host/context/state).  Each vector is a list of
actions with timestamps; the C test applies them (in order, and again in
another causally valid order) and must reach the same root hash.

Rules modelled here:
  - Add/Update at ts applied iff ts >= updated_at; Delete: deleted_at = max.
  - self-live iff updated_at > deleted_at; a dead entity's subtree is out.
  - the root (id = context id, data b"") is always live.
  - children of every entity sit under LEVELS levels of 16-way buckets:
    the level-L bucket above child c of parent p has id
    sha256(p || "bucket" || first L nibbles of c, one byte each); bucket
    data is b"", and a bucket counts only while it has a live child.
  - full_hash = sha256(sha256(data) || children's full hashes by id).
Re-run only when the rules change on purpose."""
import hashlib, json

def h(b): return hashlib.sha256(b).digest()

CTX = bytes([0xc0, 0x01, 0xc0, 0x7e, 0x87]) + bytes(27)

def eid(name): return h(b"mero/test-entity/" + name.encode())

LEVELS = 4

def nibbles(child, level):
    return bytes((child[i // 2] >> (4 if i % 2 == 0 else 0)) & 15 for i in range(level))

def bucket_id(parent, child, level): return h(parent + b"bucket" + nibbles(child, level))

class Tree:
    def __init__(self):
        self.ents = {}
        self.ops = []

    def add(self, ident, parent, data, ts, typ=1):
        self.ops.append({"op": "add", "id": ident.hex(), "parent": parent.hex(), "type": typ,
                         "data": data.hex(), "ts": list(ts)})
        e = self.ents.get(ident)
        if e is None:
            self.ents[ident] = {"parent": parent, "data": data, "upd": ts, "del": (0, 0)}
        elif ts >= e["upd"]:
            e["data"], e["upd"] = data, ts

    def update(self, ident, data, ts):
        self.ops.append({"op": "update", "id": ident.hex(), "data": data.hex(), "ts": list(ts)})
        e = self.ents[ident]
        if ts >= e["upd"]:
            e["data"], e["upd"] = data, ts

    def delete(self, ident, ts):
        self.ops.append({"op": "delete", "id": ident.hex(), "ts": list(ts)})
        e = self.ents[ident]
        e["del"] = max(e["del"], ts)

    def live(self, e): return e["upd"] > e["del"]

    def full(self, ident, data):
        kids = sorted(i for i, e in self.ents.items() if e["parent"] == ident and self.live(e))
        return h(h(data) + b"".join(self.buckets(ident, kids, 1)))

    def buckets(self, parent, kids, level):
        """Full hashes of the non-empty level-`level` buckets over kids, by id."""
        groups = {}
        for k in kids:
            groups.setdefault(bucket_id(parent, k, level), []).append(k)
        out = []
        for bid, members in sorted(groups.items()):
            if level < LEVELS:
                inner = self.buckets(parent, members, level + 1)
            else:
                inner = [self.full(m, self.ents[m]["data"]) for m in sorted(members)]
            out.append(h(h(b"") + b"".join(inner)))
        return out

    def root(self):
        if not self.ops:
            return bytes(32)
        return self.full(CTX, b"")

vectors = []
def emit(name, t): vectors.append({"name": name, "ops": list(t.ops), "root_hash": t.root().hex()})

emit("empty", Tree())

t = Tree(); m = eid("map")
t.add(m, CTX, b"", (1 << 16, 1), 2)
for i, k in enumerate([b"a", b"b", b"c"]):
    t.add(h(m + b"entry" + k), m, k + b"=v", ((2 + i) << 16, 1))
emit("map with three entries", t)

t = Tree(); m = eid("wide")
t.add(m, CTX, b"", (1 << 16, 1), 2)
for i in range(300):
    t.add(h(m + b"entry" + b"k%d" % i), m, b"v%d" % i, ((10 + i) << 16, 2))
# ids chosen to share leading nibbles (down to the same leaf bucket)
for i in range(6):
    t.add(bytes([0xab, 0xcd, i]) + bytes(29), m, b"p%d" % i, ((400 + i) << 16, 2))
for i in range(4):
    t.add(bytes([0xab, 0x10 + i]) + bytes(30), m, b"q%d" % i, ((500 + i) << 16, 2))
emit("wide map, shared bucket prefixes", t)

t = Tree(); m = eid("m")
t.add(m, CTX, b"", (1 << 16, 1), 2)
a, b, c, d = (h(m + b"entry" + x) for x in (b"a", b"b", b"c", b"d"))
t.add(a, m, b"1", (2 << 16, 1)); t.add(b, m, b"2", (3 << 16, 1))
t.add(c, m, b"3", (4 << 16, 1)); t.add(d, m, b"4", (5 << 16, 1))
t.delete(a, (2 << 16, 1))              # tie: delete wins
t.delete(b, (6 << 16, 1)); t.add(b, m, b"2 again", (7 << 16, 2))  # revived by a later add
t.update(c, b"old", (3 << 16, 9))      # older than stored: ignored
t.update(c, b"new", (8 << 16, 1))
t.delete(d, (9 << 16, 1))
emit("ties, revival, stale update, delete", t)

t = Tree(); m = eid("outer"); n = eid("inner"); x = eid("leaf")
t.add(m, CTX, b"o", (1 << 16, 1), 2); t.add(n, m, b"i", (2 << 16, 1), 2)
t.add(x, n, b"l", (3 << 16, 1)); t.add(eid("leaf2"), n, b"l2", (4 << 16, 1))
t.add(eid("sibling"), m, b"s", (5 << 16, 1))
emit("nested depth 3", t)
t.delete(n, (6 << 16, 1))
emit("nested, inner map deleted (subtree out)", t)
t.add(eid("leaf3"), n, b"l3", (7 << 16, 1))
emit("nested, child added under a dead parent stays out", t)
t.add(n, m, b"i", (8 << 16, 1), 2)
emit("nested, parent revived brings its subtree back", t)

json.dump({"context_id": CTX.hex(), "vectors": vectors}, open("state-vectors.json", "w"), indent=1)
