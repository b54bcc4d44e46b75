// Derives the StrictSign vector in tests/unit/net/test-gossipsub-message.c
// from @chainsafe/libp2p-gossipsub 14.1.2's own code: buildRawMessage
// (signing), validateToRawMessage (verification), msgIdFnStrictSign (the
// js message id) and the RPC codec.  The seqno is random in js, so the
// vector is recorded once; Ed25519 is deterministic, so C must produce
// the same signature and bytes for the same inputs.
// Run: node tests/interop/gen-gossipsub-vector.mjs
import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { StrictSign } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RPC } from './node_modules/@chainsafe/libp2p-gossipsub/dist/src/message/rpc.js'
import { PublishConfigType } from './node_modules/@chainsafe/libp2p-gossipsub/dist/src/types.js'
import { buildRawMessage, validateToRawMessage } from './node_modules/@chainsafe/libp2p-gossipsub/dist/src/utils/buildRawMessage.js'
import { msgIdFnStrictSign } from './node_modules/@chainsafe/libp2p-gossipsub/dist/src/utils/msgIdFn.js'

const hex = (b) => Buffer.from(b).toString('hex')
const privateKey = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(3))
const author = peerIdFromPrivateKey(privateKey)
const publishConfig = { type: PublishConfigType.Signing, author, key: publicKeyToProtobuf(privateKey.publicKey), privateKey }
const data = new TextEncoder().encode('hello gossip')
const { raw, msg } = await buildRawMessage(publishConfig, 'mero-topic', data, data)
const check = await validateToRawMessage(StrictSign, raw)
if (!check.valid) throw new Error('js rejects its own message')
const rpc = RPC.encode({ subscriptions: [{ subscribe: true, topic: 'mero-topic' }], messages: [raw] })
console.log(JSON.stringify({
  peer: author.toString(),
  from: hex(raw.from),
  seqno: hex(raw.seqno),
  signature: hex(raw.signature),
  key: hex(raw.key),
  message: hex(RPC.Message.encode(raw)),
  id: hex(msgIdFnStrictSign(msg)),
  rpc: hex(rpc)
}, null, 1))
