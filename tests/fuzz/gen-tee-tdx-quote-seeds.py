#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-tee-tdx-quote: synthetic TDX quotes built
from the layout (no real quote is copied): well-formed v4, v5/TD 1.0 and
v5/TD 1.5 quotes with made-up measurements, keys and a fake PEM chain,
trailing padding, and broken variants (truncated header, lying lengths,
wrong types), plus a minimal SGX extension DER.

    tests/fuzz/gen-tee-tdx-quote-seeds.py tests/fuzz/corpus/tee-tdx-quote
"""
import os
import struct
import sys

INTEL_QE_VENDOR = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
PEM = (b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n") * 3 + b"\0"


def header(version):
    return struct.pack("<HHIHH", version, 2, 0x81, 0, 0) + INTEL_QE_VENDOR + bytes(range(20))


def body(length):
    b = bytearray(length)
    b[0:3] = b"\x06\x01\x03"          # TEE_TCB_SVN: module SVN 6, major 1
    b[123] = 0x10                     # TDATTRIBUTES: SEPT_VE_DISABLE
    b[136:184] = bytes([0x91]) * 48   # MRTD
    b[520:584] = bytes(range(64))     # REPORTDATA
    return bytes(b)


def signature_data(auth_len=32, cert_type=6, inner_type=5, pem=PEM, cert_size_delta=0):
    inner = struct.pack("<H", auth_len) + bytes(auth_len) + struct.pack("<HI", inner_type, len(pem)) + pem
    qe = bytes(384) + bytes(64)
    cert = qe + inner
    return (bytes(64) + bytes(range(64)) + struct.pack("<HI", cert_type, len(cert) + cert_size_delta)
            + cert)


def quote(version, body_type=2, sig=None, padding=0, sig_len_delta=0):
    body_len = 648 if body_type == 3 else 584
    out = header(version)
    if version == 5:
        out += struct.pack("<HI", body_type, body_len)
    out += body(body_len)
    sig = signature_data() if sig is None else sig
    return out + struct.pack("<I", len(sig) + sig_len_delta) + sig + bytes(padding)


def sgx_extension():
    def tlv(tag, value):
        n = len(value)
        if n < 0x80:
            return bytes([tag, n]) + value
        return bytes([tag, 0x82, n >> 8, n & 0xff]) + value

    oid = bytes.fromhex("2a864886f84d010d01")
    entry = lambda arcs, tag, value: tlv(0x30, tlv(0x06, oid + bytes(arcs)) + tlv(tag, value))
    comps = b"".join(entry([2, i], 0x02, b"\x00\xff" if i == 6 else bytes([i])) for i in range(1, 17))
    tcb = comps + entry([2, 17], 0x02, b"\x0d") + entry([2, 18], 0x04, bytes(16))
    return tlv(0x30, entry([1], 0x04, bytes(16)) + entry([2], 0x30, tcb)
               + entry([3], 0x04, b"\0\0") + entry([4], 0x04, bytes.fromhex("b0c06f000000")))


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    seeds = {
        "v4-td10": quote(4),
        "v4-td10-padding": quote(4, padding=70),
        "v5-td10": quote(5, 2),
        "v5-td15": quote(5, 3),
        "v5-bad-body-type": quote(5, 1),
        "v4-truncated-header": quote(4)[:40],
        "v4-truncated-pem": quote(4)[:-20],
        "v4-sig-len-lies": quote(4, sig_len_delta=1),
        "v4-cert-size-lies": quote(4, sig=signature_data(cert_size_delta=9)),
        "v4-auth-len-lies": quote(4, sig=signature_data(auth_len=32)[:-len(PEM) - 6]),
        "v4-cert-type-5": quote(4, sig=signature_data(cert_type=5)),
        "v4-inner-type-3": quote(4, sig=signature_data(inner_type=3)),
        "v3-sgx": struct.pack("<HHI", 3, 2, 0) + bytes(1000),
        "sgx-extension": sgx_extension(),
    }
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
