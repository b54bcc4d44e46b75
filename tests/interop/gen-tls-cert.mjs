// Prints a libp2p TLS certificate made by js-libp2p's own code
// (@libp2p/tls 2.2.7, generateCertificate) for the Ed25519 identity with
// seed 32 x 0x01, as DER hex, with its peer id and the Unix time it was
// made.  tests/unit/net/test-tls.c checks that the C verifier accepts
// it (an independent implementation of the certificate format) and the
// fuzz corpus starts from it.  Run: node tests/interop/gen-tls-cert.mjs
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateCertificate } from './node_modules/@libp2p/tls/dist/src/utils.js'

const key = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(1))
const now = Math.floor(Date.now() / 1000)
const { cert } = await generateCertificate(key)
const der = Buffer.from(cert.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64')
console.log(JSON.stringify({ peerId: peerIdFromPrivateKey(key).toString(), now, der: der.toString('hex') }))
