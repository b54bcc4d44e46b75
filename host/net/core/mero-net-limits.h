/* mero-net-limits.h: every bound the sans-IO network cores enforce.
 *
 * Anything a remote peer can make us allocate, buffer or loop over is
 * capped by one of these constants, so a hostile peer costs at most a
 * known amount of memory and work per connection.  Values that must match
 * js-libp2p or a spec say where they come from. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* --- unsigned varint (multiformats/unsigned-varint) --- */

/* The spec caps varints at 9 bytes, i.e. 63 bits of value. */
#define MERO_VARINT_MAX_BYTES 9
#define MERO_VARINT_MAX_VALUE G_GUINT64_CONSTANT (0x7fffffffffffffff)

/* --- multiaddr --- */

/* Longest binary multiaddr we accept; real ones are well under 100 bytes. */
#define MERO_MULTIADDR_MAX_BYTES 1024
/* Longest text multiaddr we accept (p2p values grow by ~1.4 in base58). */
#define MERO_MULTIADDR_MAX_TEXT 2048
/* Most components (protocol/value pairs) in one multiaddr. */
#define MERO_MULTIADDR_MAX_COMPONENTS 16
/* A DNS name is at most 255 octets (RFC 1035). */
#define MERO_MULTIADDR_MAX_DNS_NAME 255
/* A PeerId multihash: identity of a <= 42-byte key protobuf (2 + 42) or
 * sha2-256 (34); leave room for other small multihashes. */
#define MERO_MULTIADDR_MAX_P2P_BYTES 64
/* base58btc text of MERO_MULTIADDR_MAX_P2P_BYTES bytes is at most 88
 * characters; anything longer cannot decode to an acceptable value. */
#define MERO_MULTIADDR_MAX_P2P_TEXT 88

/* --- length-prefixed frames (uvarint length || payload) --- */

/* Absolute ceiling for any length-prefixed frame (DESIGN §7: 8 MiB). A
 * decoder is created with its own, usually smaller, maximum. */
#define MERO_LP_FRAME_MAX_PAYLOAD (8u * 1024u * 1024u)

/* --- multistream-select 1.0 --- */

/* js: MAX_PROTOCOL_LENGTH; counts the text and its trailing newline. */
#define MERO_MULTISTREAM_MAX_LINE 1024
/* js reads the length of a line from at most two varint bytes. */
#define MERO_MULTISTREAM_MAX_VARINT_BYTES 2
/* Lines a responder answers (na, ls, header) before giving up, and
 * proposals an initiator may be configured with. */
#define MERO_MULTISTREAM_MAX_ROUNDS 32

/* --- yamux (spec: yamux/README.md, reference §2.5) --- */

#define MERO_YAMUX_HEADER_SIZE 12
/* Initial send and receive window of every stream, in each direction. */
#define MERO_YAMUX_INITIAL_WINDOW 262144u
/* Read bytes of a stream returned to the peer as one Window Update. */
#define MERO_YAMUX_CREDIT_BATCH (MERO_YAMUX_INITIAL_WINDOW / 8u)
/* js caps its Data frames at 64 KiB including the header; so do we. */
#define MERO_YAMUX_MAX_DATA_PAYLOAD (65536u - MERO_YAMUX_HEADER_SIZE)
/* Streams per direction per connection.  Each inbound stream may buffer a
 * full window, so this caps unread data at 256 × 256 KiB = 64 MiB per
 * connection.  js allows 1000 but opens only a handful (identify, ping,
 * gossipsub) to one peer. */
#define MERO_YAMUX_DEFAULT_MAX_STREAMS 256u
/* The spec allows at most 256 outbound streams awaiting their ACK. */
#define MERO_YAMUX_MAX_ACK_BACKLOG 256u
/* Bytes an application may queue on one stream beyond what the send
 * window lets out; stream_write accepts less once this is full. */
#define MERO_YAMUX_MAX_STREAM_SEND_QUEUE (256u * 1024u)
/* Control frames (ping ACKs, window updates, RSTs) waiting to be pulled.
 * A peer that makes us answer faster than the host drains us is cut off. */
#define MERO_YAMUX_MAX_CONTROL_BACKLOG (64u * 1024u)
/* How long an outgoing ping may stay unanswered (js: 10 s ping timeout). */
#define MERO_YAMUX_PING_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* js keepAliveInterval. */
#define MERO_YAMUX_KEEPALIVE_INTERVAL_US (30 * G_USEC_PER_SEC)

/* --- Noise (spec: noise/README.md, reference §2.3) --- */

/* Every Noise message travels in a frame with a 2-byte big-endian
 * length, so no ciphertext can exceed this. */
#define MERO_NOISE_MAX_FRAME 65535u
/* Transport plaintext per frame: the frame minus the Poly1305 tag. */
#define MERO_NOISE_MAX_PLAINTEXT (MERO_NOISE_MAX_FRAME - 16u)
/* A handshake message carries a key, a signature and a few muxer names
 * (js: about 140 bytes); anything far larger is refused before it is
 * buffered or decrypted. */
#define MERO_NOISE_MAX_HANDSHAKE_MESSAGE 4096u
/* stream_muxers names accepted from (and offered in) a payload. */
#define MERO_NOISE_MAX_STREAM_MUXERS 8u

/* --- identify (spec: identify/README.md, reference §2.6) --- */

/* js refuses identify messages above 8192 bytes; so do we. */
#define MERO_IDENTIFY_MAX_MESSAGE 8192u
/* listenAddrs and protocols entries kept from one message. */
#define MERO_IDENTIFY_MAX_ADDRS 32u
#define MERO_IDENTIFY_MAX_PROTOCOLS 64u
/* Longest agentVersion/protocolVersion string kept. */
#define MERO_IDENTIFY_MAX_VERSION_STRING 256u

/* --- ping (spec: ping/ping.md, reference §2.7) --- */

#define MERO_PING_PAYLOAD_LEN 32u
/* js's ping timeout. */
#define MERO_PING_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* Consecutive failed pings after which the connection is closed. */
#define MERO_PING_MAX_FAILURES 3u
/* Inbound ping streams served at once per connection (js: 2). */
#define MERO_PING_MAX_INBOUND_STREAMS 2u

/* --- connection (multistream → noise → yamux → streams) --- */

/* From TCP accept/connect to a working yamux session. */
#define MERO_CONNECTION_HANDSHAKE_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* js waits 5 s for an identify reply; so do we, then drop the stream. */
#define MERO_IDENTIFY_TIMEOUT_US (5 * G_USEC_PER_SEC)
/* Bytes read from one stream per step while a built-in protocol
 * (negotiation, identify, ping echo) consumes it. */
#define MERO_CONNECTION_STREAM_READ_CHUNK 4096u
/* Application streams (exact ids plus prefixes) a connection accepts. */
#define MERO_CONNECTION_MAX_APP_PROTOCOLS 32u

/* --- gossipsub (reference §2.8) --- */

/* js accepts inbound RPCs of up to 4 MiB (it-length-prefixed default). */
#define MERO_GOSSIPSUB_MAX_RPC_SIZE (4u * 1024u * 1024u)
/* Issue 3: published message data is at most 1 MiB. */
#define MERO_GOSSIPSUB_MAX_MESSAGE_DATA (1024u * 1024u)
/* Topic names, message ids, and entries per RPC we are willing to hold. */
#define MERO_GOSSIPSUB_MAX_TOPIC_LEN 256u
#define MERO_GOSSIPSUB_MAX_MESSAGE_ID_LEN 256u
#define MERO_GOSSIPSUB_MAX_SUBSCRIPTIONS 1024u
#define MERO_GOSSIPSUB_MAX_MESSAGES 1024u
#define MERO_GOSSIPSUB_MAX_CONTROL_ENTRIES 1024u
/* Spec: max IHAVE length 5000 ids; the same caps IWANT and IDONTWANT. */
#define MERO_GOSSIPSUB_MAX_IDS 5000u

G_END_DECLS
