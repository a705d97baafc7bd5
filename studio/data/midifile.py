"""A small Standard MIDI File reader (and a writer for tests), written for the data builder.

Reading turns a file into timed messages in seconds (the tempo map applied); pairing note-ons with note-offs is left
to :mod:`studio.data.notes`, which is where the hanging-note guard lives.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from studio.data.errors import DataBuildError

DEFAULT_TEMPO_US = 500_000  # 120 quarter notes per minute, the SMF default


@dataclass(frozen=True)
class MidiMessage:
    """One channel or meta message at an absolute time.

    kind: "on", "off", "program" (a = program), "text" (text set; meta type in a), or "tempo".
    """

    time: float  # seconds from the start
    track: int
    kind: str
    channel: int = 0
    a: int = 0  # pitch, program or meta type
    b: int = 0  # velocity
    text: str = ""


def _read_vlq(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
    raise ValueError("variable-length quantity longer than 4 bytes")


def _parse_track(data: bytes, track: int) -> list[tuple[int, int, str, int, int, int, str]]:
    """Raw events of one MTrk chunk as (tick, track, kind, channel, a, b, text); tempo carries µs in a."""
    events = []
    pos, tick, status = 0, 0, 0
    while pos < len(data):
        delta, pos = _read_vlq(data, pos)
        tick += delta
        if data[pos] & 0x80:
            status = data[pos]
            pos += 1
        elif status == 0:
            raise ValueError("running status without a status byte")
        if status == 0xFF:  # meta event
            mtype = data[pos]
            length, pos = _read_vlq(data, pos + 1)
            body = data[pos:pos + length]
            pos += length
            if mtype == 0x51 and length == 3:
                events.append((tick, track, "tempo", 0, int.from_bytes(body, "big"), 0, ""))
            elif mtype in (0x01, 0x05):
                events.append((tick, track, "text", 0, mtype, 0, body.decode("latin-1")))
            elif mtype == 0x2F:
                break
            status = 0
        elif status in (0xF0, 0xF7):  # sysex
            length, pos = _read_vlq(data, pos)
            pos += length
            status = 0
        else:
            kind, channel = status & 0xF0, status & 0x0F
            if kind in (0xC0, 0xD0):
                a, b = data[pos], 0
                pos += 1
            else:
                a, b = data[pos], data[pos + 1]
                pos += 2
            if kind == 0x90 and b > 0:
                events.append((tick, track, "on", channel, a, b, ""))
            elif kind == 0x80 or kind == 0x90:
                events.append((tick, track, "off", channel, a, 0, ""))
            elif kind == 0xC0:
                events.append((tick, track, "program", channel, a, 0, ""))
    return events


def read_midi(data: bytes) -> list[MidiMessage]:
    """Parse a Standard MIDI File into messages sorted by time (seconds, tempo changes applied).

    Raises:
        DataBuildError: the bytes are not a readable MIDI file.
    """
    try:
        if data[:4] != b"MThd":
            raise ValueError("no MThd header")
        hlen = int.from_bytes(data[4:8], "big")
        _fmt, _ntracks, division = struct.unpack(">HHH", data[8:14])
        if division & 0x8000:
            raise ValueError("SMPTE time division is not supported")
        pos, raw, track = 8 + hlen, [], 0
        while pos + 8 <= len(data):
            cid, length = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
            if cid == b"MTrk":
                raw.extend(_parse_track(data[pos + 8:pos + 8 + length], track))
                track += 1
            pos += 8 + length
    except (ValueError, IndexError, struct.error) as exc:
        raise DataBuildError(f"cannot read MIDI data ({exc}). Fix: check the converter that wrote it "
                             "(abc2midi) or skip this work.") from exc
    order = {"tempo": 0, "off": 1, "program": 2, "text": 3, "on": 4}
    raw.sort(key=lambda e: (e[0], order[e[2]], e[1]))
    out, last_tick, seconds, us_per_tick = [], 0, 0.0, DEFAULT_TEMPO_US / division
    for tick, trk, kind, channel, a, b, text in raw:
        seconds += (tick - last_tick) * us_per_tick / 1e6
        last_tick = tick
        if kind == "tempo":
            us_per_tick = max(a, 1) / division
            continue
        out.append(MidiMessage(seconds, trk, kind, channel, a, b, text))
    return out


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def write_midi(tracks: list[list[tuple[int, bytes]]], division: int = 480) -> bytes:
    """Write raw (tick, message bytes) lists as a format-1 Standard MIDI File; used to make test files.

    Messages are written as given, so a test can build broken files (a note-on that is never released).
    """
    chunks = [b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), division)]
    for events in tracks:
        body, last = b"", 0
        for tick, message in sorted(events, key=lambda e: e[0]):
            body += _vlq(tick - last) + message
            last = tick
        body += _vlq(0) + b"\xff\x2f\x00"
        chunks.append(b"MTrk" + struct.pack(">I", len(body)) + body)
    return b"".join(chunks)
