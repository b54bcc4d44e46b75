// bench-gossip-js.mjs: the js↔js baseline of bench-gossip.c: js-libp2p
// 2.8.8 gossipsub nodes (14.1.2, StrictSign, emitSelf false, TCP + noise +
// yamux, the versions tests/interop pins) on 127.0.0.1, all in this one
// node process (one event loop; the C side runs one network thread per
// node), measured exactly as the C side is.  One node per worker thread
// was tried and measured 2-4x slower here (852 against 2920 msg/s at
// 1 KiB, 2 nodes, same machine, back to back), so the single process is
// the stronger baseline and the one used:
//
//   line topology: 2 nodes a–b, or 3 nodes a–b–c (c only hears a's
//   messages through b's relay); a publishes, the others receive;
//   throughput: at most WINDOW messages published and not yet received by
//     every receiver, for SECONDS; msg/s and MB/s at the last receiver;
//     latency of those messages (loaded);
//   latency: one message at a time (window 1), publish-to-receive;
//   before them, 1 s of each size unmeasured (warm-up: JIT, caches).
//
// Usage: node bench-gossip-js.mjs INTEROP_DIR SECONDS
// Prints one JSON line per case:
//   {"nodes":n,"size":bytes,"msgs":n,"secs":s,"loadedP50":µs,"loadedP99":µs,
//    "p50":µs,"p99":µs,"samples":n,"missing":n}
// missing: messages published but never delivered (a drop) by the end of
// a 2 s drain; the C side reports the same.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [interopDir, secondsArg] = process.argv.slice(2)
const seconds = Number(secondsArg ?? '2')

// The packages live in tests/interop/node_modules, which Node's resolver
// cannot see from here: load each entry point by path.
async function load (pkg) {
  const root = join(interopDir, 'node_modules', pkg)
  const meta = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  let entry = meta.exports?.['.'] ?? meta.exports ?? meta.main
  while (typeof entry === 'object') entry = entry.import ?? entry.default
  return import(pathToFileURL(join(root, entry)).href)
}

const { gossipsub } = await load('@chainsafe/libp2p-gossipsub')
const { noise } = await load('@chainsafe/libp2p-noise')
const { yamux } = await load('@chainsafe/libp2p-yamux')
const { tcp } = await load('@libp2p/tcp')
const { identify } = await load('@libp2p/identify')
const { createLibp2p } = await load('libp2p')

const TOPIC = 'bench'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const nowUs = () => Number(process.hrtime.bigint() / 1000n)

async function makeNode () {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        emitSelf: false,
        scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) }
      })
    }
  })
}

async function waitFor (cond, ms) {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out')
    await sleep(20)
  }
}

function percentile (sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function runTopology (n, sizes) {
  const nodes = []
  for (let i = 0; i < n; i++) nodes.push(await makeNode())
  for (const node of nodes) node.services.pubsub.subscribe(TOPIC)
  for (let i = 0; i + 1 < n; i++) await nodes[i].dial(nodes[i + 1].getMultiaddrs()[0])
  // Line mesh: each node has its neighbours in its mesh.
  await waitFor(() => nodes.every((node, i) =>
    node.services.pubsub.getMeshPeers(TOPIC).length === (i === 0 || i === n - 1 ? 1 : 2)), 20000)

  const receivers = nodes.slice(1)
  const received = receivers.map(() => 0)
  let samples = null
  let wake = null
  receivers.forEach((node, r) => {
    node.services.pubsub.addEventListener('message', (evt) => {
      const data = evt.detail.data
      const sent = Number(Buffer.from(data.buffer, data.byteOffset, 16).readBigUInt64LE(8))
      received[r]++
      if (r === receivers.length - 1 && samples != null) samples.push(nowUs() - sent)
      if (wake != null) { const w = wake; wake = null; w() }
    })
  })
  const pub = nodes[0].services.pubsub
  let seq = 0
  const minReceived = () => Math.min(...received)
  const publishOne = async (size) => {
    const data = new Uint8Array(size)
    const view = Buffer.from(data.buffer)
    view.writeBigUInt64LE(BigInt(seq++), 0)
    view.writeBigUInt64LE(BigInt(nowUs()), 8)
    await pub.publish(TOPIC, data)
  }
  // Publishes for `secs` keeping at most `window` messages in flight.
  const phase = async (size, window, secs) => {
    const startSeq = seq
    const startRecv = minReceived()
    const start = nowUs()
    const end = start + secs * 1e6
    samples = []
    while (nowUs() < end) {
      if (seq - startSeq - (minReceived() - startRecv) < window) {
        await publishOne(size)
      } else {
        await Promise.race([new Promise((resolve) => { wake = resolve }), sleep(100)])
      }
    }
    await waitFor(() => minReceived() - startRecv >= seq - startSeq, 2000).catch(() => {})
    const secsTaken = (nowUs() - start) / 1e6
    const s = samples.sort((a, b) => a - b)
    samples = null
    return { msgs: minReceived() - startRecv, published: seq - startSeq, secs: secsTaken, s }
  }

  // Warm-up, not measured: js's JIT must not count against the first case.
  for (const size of sizes) await phase(size, 64, 1)
  for (const size of sizes) {
    const window = Math.max(8, Math.min(256, Math.floor((2 << 20) / size)))
    const t = await phase(size, window, seconds)
    const l = await phase(size, 1, Math.max(1, seconds / 2))
    process.stdout.write(JSON.stringify({
      nodes: n,
      size,
      msgs: t.msgs,
      secs: t.secs,
      loadedP50: percentile(t.s, 0.5),
      loadedP99: percentile(t.s, 0.99),
      p50: percentile(l.s, 0.5),
      p99: percentile(l.s, 0.99),
      samples: l.s.length,
      missing: (t.published - t.msgs) + (l.published - l.msgs)
    }) + '\n')
  }
  await Promise.all(nodes.map((node) => node.stop()))
}

await runTopology(2, [1024, 65536])
await runTopology(3, [1024, 65536])
process.exit(0)
