// js-peer.mjs: a js-libp2p 2.8.8 peer (TCP, noise or TLS, yamux, identify, ping)
// that merod's interop test runs against.  It prints one JSON object per
// line on stdout, the test's only view of it:
//   {"event":"listening","peerId":…,"addrs":[…]}
//   {"event":"connected","peer":…}       {"event":"disconnected","peer":…}
//   {"event":"identify","peer":…,"publicKey":hex,"protocols":[…],"agent":…}
//   {"event":"ping","peer":…,"rtt":ms}   {"event":"ping-failed","peer":…,"error":…}
//   {"event":"done","disconnects":n,"connections":n,"monitorRtt":ms|null}
// With --topic (gossipsub 14.1.2, StrictSign, emitSelf false):
//   {"event":"subscribed","peer":…,"topic":…}   (a peer joined the topic)
//   {"event":"published","topic":…,"data":…}    {"event":"publish-failed","error":…}
//   {"event":"message","topic":…,"from":…,"data":…,"seqno":hex}
//
// Usage: node js-peer.mjs (--listen | --dial MULTIADDR) [--stay SECONDS]
//        [--pings N] [--security noise|tls|noise,tls|tls,noise]
//        [--topic TOPIC [--publish N] [--tag TAG] [--publish-delay MS]]
//        [--identify-push]
// --security lists the connection encrypters in order of preference
// (default noise; tls is @libp2p/tls 2.2.7).
// Published messages are "TAG-msg-I" (TAG defaults to js), sent
// --publish-delay ms after the first remote joined the topic (so that a
// bigger mesh can form first).
// --identify-push serves /ipfs/id/push/1.0.0 (the identifyPush service):
// a push from the remote prints another "identify" line.
// It pings the remote N times (one second apart) after identify, stays
// up SECONDS after the connection opened (so js's connection monitor,
// which pings every 10 s, gets its turn), then stops.
import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify, identifyPush } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const listen = args.includes('--listen')
const dialAddr = opt('--dial', null)
const stay = Number(opt('--stay', '12'))
const pings = Number(opt('--pings', '3'))
const topic = opt('--topic', null)
const publishCount = Number(opt('--publish', '3'))
const tag = opt('--tag', 'js')
const publishDelay = Number(opt('--publish-delay', '0'))
const encrypters = { noise, tls }
const security = opt('--security', 'noise').split(',').map((name) => {
  if (encrypters[name] == null) throw new Error(`unknown --security ${name}`)
  return encrypters[name]()
})
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hex = (bytes) => Buffer.from(bytes).toString('hex')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const node = await createLibp2p({
  addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
  transports: [tcp()],
  connectionEncrypters: security,
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ...(args.includes('--identify-push') ? { identifyPush: identifyPush() } : {}),
    ping: ping(),
    ...(topic != null
      ? {
          pubsub: gossipsub({
            globalSignaturePolicy: 'StrictSign',
            emitSelf: false,
            // All test peers share 127.0.0.1: no IP colocation penalty
            // (reference §2.8).
            scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) }
          })
        }
      : {})
  }
})

let disconnects = 0
let connectedAt = null
let remote = null
let identified = null
const identifiedPromise = new Promise((resolve) => { identified = resolve })

node.addEventListener('peer:connect', (evt) => {
  remote = evt.detail
  connectedAt ??= Date.now()
  out({ event: 'connected', peer: evt.detail.toString() })
})
node.addEventListener('peer:disconnect', (evt) => {
  disconnects++
  out({ event: 'disconnected', peer: evt.detail.toString() })
})
node.addEventListener('peer:identify', (evt) => {
  const d = evt.detail
  out({
    event: 'identify',
    peer: d.peerId.toString(),
    // IdentifyResult.publicKey is the PublicKey protobuf as received.
    publicKey: d.publicKey instanceof Uint8Array ? hex(d.publicKey) : d.publicKey != null ? hex(publicKeyToProtobuf(d.publicKey)) : null,
    protocols: d.protocols,
    agent: d.agentVersion,
    protocolVersion: d.protocolVersion,
    listenAddrs: d.listenAddrs.map((a) => a.toString()),
    observedAddr: d.observedAddr?.toString() ?? null
  })
  identified(d.peerId)
})

let pubsubDone = Promise.resolve()
if (topic != null) {
  const pubsub = node.services.pubsub
  pubsub.addEventListener('subscription-change', (evt) => {
    for (const sub of evt.detail.subscriptions) {
      if (sub.subscribe) out({ event: 'subscribed', peer: evt.detail.peerId.toString(), topic: sub.topic })
    }
  })
  pubsub.addEventListener('message', (evt) => {
    const m = evt.detail
    out({
      event: 'message',
      topic: m.topic,
      from: m.type === 'signed' ? m.from.toString() : null,
      data: Buffer.from(m.data).toString('utf8'),
      seqno: m.type === 'signed' ? m.sequenceNumber.toString(16) : null
    })
  })
}

await node.start()
if (topic != null) node.services.pubsub.subscribe(topic)
out({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) })

if (dialAddr != null) {
  try {
    await node.dial(multiaddr(dialAddr))
  } catch (err) {
    out({ event: 'dial-failed', error: String(err) })
  }
}

// Wait (bounded) for the remote to be identified, then ping it.
const peer = await Promise.race([identifiedPromise, sleep(15000).then(() => null)])
if (peer != null && topic != null) {
  // Publish once the remote is in the topic (js refuses to publish to
  // nobody), alongside the pings.
  pubsubDone = (async () => {
    const pubsub = node.services.pubsub
    const deadline = Date.now() + 10000
    while (Date.now() < deadline && !pubsub.getSubscribers(topic).some((p) => p.equals(peer))) await sleep(50)
    await sleep(publishDelay)
    for (let i = 0; i < publishCount; i++) {
      const data = `${tag}-msg-${i}`
      try {
        await pubsub.publish(topic, new TextEncoder().encode(data))
        out({ event: 'published', topic, data })
      } catch (err) {
        out({ event: 'publish-failed', error: String(err) })
      }
    }
  })()
}
if (peer == null) {
  out({ event: 'identify-timeout' })
} else {
  for (let i = 0; i < pings; i++) {
    try {
      const rtt = await node.services.ping.ping(peer, { signal: AbortSignal.timeout(5000) })
      out({ event: 'ping', peer: peer.toString(), rtt })
    } catch (err) {
      out({ event: 'ping-failed', peer: peer.toString(), error: String(err) })
    }
    await sleep(1000)
  }
}

await pubsubDone
const until = (connectedAt ?? Date.now()) + stay * 1000
while (Date.now() < until) await sleep(200)
// conn.rtt is set by js's connection monitor after a successful ping.
out({
  event: 'done',
  disconnects,
  connections: node.getConnections().length,
  monitorRtt: node.getConnections()[0]?.rtt ?? null,
  remote: remote?.toString() ?? null
})
// Give the test a moment to check the connection is still up before
// this stop closes it.
await sleep(1000)
await node.stop()
process.exit(0)
