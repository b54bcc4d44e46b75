// Derives the Noise XX known-answer vector in tests/unit/net/test-noise.c
// from js-libp2p's own Noise code (@chainsafe/libp2p-noise 16.1.5) with
// fixed keys, so the C core is checked against an independent
// implementation.  Run: node tests/interop/gen-noise-kat.mjs
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { defaultCrypto } from './node_modules/@chainsafe/libp2p-noise/dist/src/crypto/index.js'
import { wrapCrypto } from './node_modules/@chainsafe/libp2p-noise/dist/src/crypto.js'
import { XXHandshakeState, ZEROLEN } from './node_modules/@chainsafe/libp2p-noise/dist/src/protocol.js'
import { createHandshakePayload } from './node_modules/@chainsafe/libp2p-noise/dist/src/utils.js'

const hex = (b) => Buffer.from(b.subarray ? b.subarray() : b).toString('hex')
const fill = (v) => new Uint8Array(32).fill(v)
const base = wrapCrypto(defaultCrypto)
// generateKeypair hands out the fixed ephemeral key of each side.
const withEphemeral = (e) => ({ ...base, generateKeypair: () => e })
const kp = (v) => defaultCrypto.generateX25519KeyPairFromSeed(fill(v))

// Identity seeds 0x01.. and 0x02..; X25519 static 0x11/0x22, ephemeral 0x33/0x44.
const idI = await generateKeyPairFromSeed('Ed25519', fill(1))
const idR = await generateKeyPairFromSeed('Ed25519', fill(2))
const sI = kp(0x11); const sR = kp(0x22); const eI = kp(0x33); const eR = kp(0x44)
const payI = await createHandshakePayload(idI, sI.publicKey)
const payR = await createHandshakePayload(idR, sR.publicKey, { streamMuxers: ['/yamux/1.0.0'], webtransportCerthashes: [] })

const name = 'Noise_XX_25519_ChaChaPoly_SHA256'
const ini = new XXHandshakeState({ crypto: withEphemeral(eI), protocolName: name, initiator: true, prologue: ZEROLEN, s: sI })
const res = new XXHandshakeState({ crypto: withEphemeral(eR), protocolName: name, initiator: false, prologue: ZEROLEN, s: sR })
const m1 = ini.writeMessageA(ZEROLEN); res.readMessageA(m1)
const m2 = res.writeMessageB(payR); ini.readMessageB(m2)
const m3 = ini.writeMessageC(payI); res.readMessageC(m3)
const [c1] = ini.ss.split()
const [, c2] = res.ss.split()
const t1 = c1.encryptWithAd(ZEROLEN, new TextEncoder().encode('hello from initiator'))
const t2 = c2.encryptWithAd(ZEROLEN, new TextEncoder().encode('hello from responder'))
console.log(JSON.stringify({ payload_i: hex(payI), payload_r: hex(payR), msg1: hex(m1), msg2: hex(m2), msg3: hex(m3), transport_i: hex(t1), transport_r: hex(t2), h: hex(ini.ss.h) }, null, 1))
