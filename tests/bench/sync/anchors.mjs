// anchors.mjs: the benchmark's anchors on the same version sets as
// sync-reconcile (bench-reconcile.c writes them): negentropy (range-based
// set reconciliation, nostr-tools' nip77 port) and @peerbit/riblt (the
// Rust RIBLT in wasm, u64 symbols: its coded-symbol count until decode).
// Usage: node anchors.mjs <interop node_modules> <items A> <items B>
// (32-byte items, concatenated).  Prints one JSON line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, fileA, fileB] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(modules, p)).href);
// nip77.js is hidden by nostr-tools' exports map: imported by path.
const { Negentropy, NegentropyStorageVector } = await load('nostr-tools/lib/esm/nip77.js');
const riblt = await load('@peerbit/riblt/dist/index.js');

const items = (file) => {
  const buf = readFileSync(file);
  const out = [];
  for (let i = 0; i + 32 <= buf.length; i += 32) out.push(buf.subarray(i, i + 32));
  return out;
};
const hex = (b) => Buffer.from(b).toString('hex');
const a = items(fileA), b = items(fileB);

// negentropy: A initiates; every message counted in bytes; a round trip
// is a query and its answer.
const storage = (set) => {
  const s = new NegentropyStorageVector();
  for (const x of set) s.insert(0, hex(x));
  s.seal();
  return s;
};
// No frame limit: the anchor at its fewest round trips.
const na = new Negentropy(storage(a), 1e8), nb = new Negentropy(storage(b), 1e8);
let negBytes = 0, negMessages = 0, negFound = 0;
const count = () => { negFound++; };
let t0 = process.cpuUsage();
let q = na.initiate();
negBytes += q.length / 2;
negMessages++;
while (q) {
  const r = nb.reconcile(q, count, count);
  if (!r) break;
  negBytes += r.length / 2;
  negMessages++;
  q = na.reconcile(r, count, count);
  if (q) {
    negBytes += q.length / 2;
    negMessages++;
  }
}
// Messages alternate: a round trip is a message and its answer.
const negRts = Math.ceil(negMessages / 2);
const negCpu = process.cpuUsage(t0);

// @peerbit/riblt: A's coded symbols into a decoder holding B's set, one
// at a time, until it decodes (first 8 bytes of each item as its u64).
await riblt.ready;
const u64 = (x) => Buffer.from(x).readBigUInt64BE(0);
t0 = process.cpuUsage();
const enc = new riblt.EncoderWrapper();
for (const x of a) enc.add_symbol(u64(x));
const dec = new riblt.DecoderWrapper();
for (const x of b) dec.add_symbol(u64(x));
let symbols = 0;
// An empty decoder reports decoded: at least one symbol.
do {
  dec.add_coded_symbol(enc.produce_next_coded_symbol());
  dec.try_decode();
  symbols++;
} while (!dec.decoded() && symbols < 10000000);
const ribltCpu = process.cpuUsage(t0);
const found = dec.get_local_symbols().length + dec.get_remote_symbols().length;

console.log(JSON.stringify({
  negentropy_bytes: negBytes, negentropy_round_trips: negRts, negentropy_differences: negFound,
  negentropy_cpu_ms: (negCpu.user + negCpu.system) / 1000,
  riblt_symbols: symbols, riblt_differences: found,
  riblt_cpu_ms: (ribltCpu.user + ribltCpu.system) / 1000,
}));
