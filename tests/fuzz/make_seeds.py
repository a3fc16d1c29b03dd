#!/usr/bin/env python3
"""Regenerates the committed seed corpora in tests/fuzz/corpus/ from the Couchbase Lite 3.2
captures (tests/vectors/cbl-3.2) and hand-built WebSocket frames. Run from anywhere:
    python3 tests/fuzz/make_seeds.py
Seeds are small on purpose: libFuzzer grows its own corpus in the build tree."""
import hashlib, json, os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, '..', 'vectors', 'cbl-3.2')


def write(target, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), 'wb') as f:
        f.write(data)


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1; r |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return r, i


def ws_frame(op, payload, mask=None, fin=True):
    h = bytes([(0x80 if fin else 0) | op])
    n = len(payload); m = 0x80 if mask else 0
    if n < 126: h += bytes([m | n])
    elif n < 65536: h += bytes([m | 126]) + struct.pack('>H', n)
    else: h += bytes([m | 127]) + struct.pack('>Q', n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload)); h += mask
    return h + payload


def capture_frames(name, direction):
    """The BLIP frames of one direction of a capture, in order."""
    out = []
    for line in open(os.path.join(VECTORS, name)):
        o = json.loads(line)
        if o.get('dir') == direction and o.get('opcode') == 2:
            out.append(bytes.fromhex(o['payload']))
    return out


def capture_messages(name):
    """(dir, type, properties, body) of every whole message of a capture."""
    inflate = {'c2s': zlib.decompressobj(-15), 's2c': zlib.decompressobj(-15)}
    pend, out = {}, []
    for d in ('c2s', 's2c'):
        for b in capture_frames(name, d):
            n, i = varint(b, 0); fl, i = varint(b, i); t = fl & 7
            if t in (4, 5): continue
            p = b[i:-4]
            if fl & 8: p = inflate[d].decompress(p + b'\x00\x00\xff\xff')
            pend[(d, n, t)] = pend.get((d, n, t), b'') + p
            if fl & 0x40: continue
            m = pend.pop((d, n, t)); pl, j = varint(m, 0)
            out.append((d, t, m[j:j + pl], m[j + pl:]))
    return out


def ws_seeds():
    mask = b'\x37\xfa\x21\x3d'
    hello = ws_frame(2, b'Hello')
    write('websocket', b'\x02' + hello)                                   # client reads server
    write('websocket', b'\x03' + ws_frame(2, b'Hello', mask))             # server reads client
    write('websocket', b'\x02' + ws_frame(2, b'Hel', fin=False) + ws_frame(9, b'hi')
          + ws_frame(0, b'lo'))                                           # fragmented + ping
    write('websocket', b'\x02' + ws_frame(8, struct.pack('>H', 4001) + b'transient'))
    write('websocket', b'\x03' + ws_frame(8, struct.pack('>H', 1000), mask))
    write('websocket', b'\x82' + ws_frame(2, b'x' * 400))                 # over the small cap
    write('websocket', b'\x02' + ws_frame(1, 'é'.encode()) + ws_frame(10, b''))
    for f in capture_frames('push.jsonl', 's2c')[:3]:
        write('websocket', b'\x05' + ws_frame(2, f))


KINDS = {b'getCheckpoint': 0, b'setCheckpoint': 2, b'subChanges': 4, b'changes': 5,
         b'proposeChanges': 7, b'rev': 9, b'norev': 10, b'getAttachment': 11,
         b'proveAttachment': 12, b'getCollections': 13}
REPLY_KIND = {0: 1, 2: 3, 5: 6, 7: 8}


def rep_seeds():
    seen = set()
    for name in ('push.jsonl', 'pull.jsonl', 'bidi.jsonl'):
        msgs = capture_messages(name)
        asked = {}
        for d, t, props, body in msgs:
            p = props.split(b'\0')[:-1]
            kv = dict(zip(p[::2], p[1::2]))
            if t == 0 and kv.get(b'Profile') in KINDS:
                kind = KINDS[kv[b'Profile']]
                key = (kind, body[:40])
                if key in seen or len(body) > 4000: continue
                seen.add(key)
                write('rep_messages', bytes([kind, 0]) + props.rstrip(b'\0') + b'\x01' + body)
    # Replies as the captures show them.
    write('rep_messages', bytes([1, 1]) + b'rev\x001-cc\x01{"time":1795690828,"local":6}')
    write('rep_messages', bytes([1, 2]) + b'Error-Domain\x00HTTP\x00Error-Code\x00404\x01')
    write('rep_messages', bytes([3, 1]) + b'rev\x006-cc\x01')
    write('rep_messages', bytes([6, 1]) + b'maxHistory\x0050\x00blobs\x00true\x01[[],[],[]]')
    write('rep_messages', bytes([6, 1]) + b'maxHistory\x0050\x01[["1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9"],0,null]')
    write('rep_messages', bytes([8, 1]) + b'deltas\x00true\x01[{"status":409,"rev":"2-bfaf3e1eee7dca81a86d8db2251288432407daca"},304,0]')
    write('rep_messages', bytes([14, 5]) + b'\x01[{"rev":"2-cc","local":5},{},null]')
    write('rep_messages', bytes([13, 4]) + b'\x01{"checkpoint_ids":["cp-1"],"collections":["s.c"]}')
    write('rep_messages', bytes([4, 4]) + b'since\x00"3:17"\x01{"docIDs":["a","b"]}')
    write('rep_messages', bytes([2, 4, ord('C')]) + b'client\x00cp\x01{"time":1,"localCompleted":[0,10,11,1],"remote":"x"}')


def session_seeds():
    # Peer mode: one direction of a real session, frames as 2-byte length + bytes.
    for name in ('push.jsonl', 'bidi.jsonl', 'pull.jsonl'):
        data = b'\x06'
        for f in capture_frames(name, 'c2s'):
            if len(data) + len(f) > 60000: break
            data += struct.pack('>H', len(f)) + f
        write('blip_session', data)
    # Byte-stream mode: the same frames as masked WebSocket messages.
    data = b'\x46'
    for f in capture_frames('push.jsonl', 'c2s'):
        if len(data) + len(f) > 60000: break
        data += ws_frame(2, f, b'\x11\x22\x33\x44')
    write('blip_session', data)
    # Loopback mode: message specs (flags, length/8, source bytes) around frame boundaries.
    write('blip_session', b'\x86' + b'\x00\x00\x01a' + b'\x02\x02\x00' + b'hello' * 4
          + b'\x05\x00\x10urgent')
    write('blip_session', b'\x80' + b'\x00\x07\xffbig' + b'\x01\x00\x03u')


if __name__ == '__main__':
    ws_seeds()
    rep_seeds()
    session_seeds()
