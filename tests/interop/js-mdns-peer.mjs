// js-mdns-peer.mjs: a js-libp2p 2.8.8 peer with @libp2p/mdns 11 (TCP,
// noise, yamux, identify), for merod's mDNS interop test.  It listens on
// 127.0.0.1, queries every second, and prints one JSON object per line:
//   {"event":"listening","peerId":…,"addrs":[…]}
//   {"event":"discovered","peer":…,"addrs":[…]}   (from an mDNS response)
//   {"event":"connected","peer":…}
// It does not dial what it discovers, so a connection shows that merod
// found it.  Usage: node js-mdns-peer.mjs [--stay SECONDS]
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

const args = process.argv.slice(2)
const i = args.indexOf('--stay')
const stay = Number(i >= 0 ? args[i + 1] : '20')
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { minConnections: 0 },
  services: { identify: identify() },
  peerDiscovery: [mdns({ interval: 1000 })]
})
node.addEventListener('peer:discovery', (evt) => {
  out({ event: 'discovered', peer: evt.detail.id.toString(), addrs: evt.detail.multiaddrs.map(String) })
})
node.addEventListener('peer:connect', (evt) => {
  out({ event: 'connected', peer: evt.detail.toString() })
})
out({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
setTimeout(async () => {
  await node.stop()
  process.exit(0)
}, stay * 1000)
