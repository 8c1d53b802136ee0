"""The bits of the FLAC stream format needed to build a file from frames encoded at different times.

A FLAC file is ``fLaC``, metadata blocks (the first is STREAMINFO: block sizes, sample rate, total samples), then
frames. Each frame of a fixed-blocksize stream carries its frame number and two checksums (CRC-8 of its header,
CRC-16 of the whole frame), and nothing else ties it to its neighbours: so frames encoded a piece at a time can be
concatenated into one standard file once each is given its place in the stream. Layout and checksums as specified
in RFC 9639 (Free Lossless Audio Codec), sections 8.2 (STREAMINFO) and 9.1 (frame header).
"""

from __future__ import annotations

__all__ = ["HEADER_SIZE", "crc8", "crc16", "renumber", "stream_header", "total_samples"]

#: ``fLaC``, a metadata block header and a STREAMINFO block: every file this package writes starts with this many
#: bytes, so the header can be rewritten in place as the stream grows.
HEADER_SIZE = 4 + 4 + 34

_CRC16_POLY = 0x8005  # x^16 + x^15 + x^2 + 1 (RFC 9639, 9.3)
_CRC8_POLY = 0x07  # x^8 + x^2 + x + 1 (RFC 9639, 9.1.8)


def _table(poly: int, width: int) -> tuple[int, ...]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    rows = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else crc << 1
        rows.append(crc & mask)
    return tuple(rows)


_CRC8 = _table(_CRC8_POLY, 8)
_CRC16 = _table(_CRC16_POLY, 16)


def crc8(data: bytes) -> int:
    """The CRC-8 of a frame header (initial value 0)."""
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def crc16(data: bytes) -> int:
    """The CRC-16 of a frame (initial value 0). Pure Python: used on headers and in tests, never on whole frames
    of a long stream (see :func:`renumber`)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def _mulmod(a: int, b: int) -> int:
    """``a * b`` modulo the CRC-16 polynomial, as polynomials over GF(2)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0x10000:
            a ^= 0x10000 | _CRC16_POLY
    return product


def _x_power_bytes(count: int) -> int:
    """``x^(8 * count)`` modulo the CRC-16 polynomial: what ``count`` bytes after a prefix do to its CRC."""
    result, square, exponent = 1, 1 << 8, count
    while exponent:
        if exponent & 1:
            result = _mulmod(result, square)
        square = _mulmod(square, square)
        exponent >>= 1
    return result


def _coded_number(number: int) -> bytes:
    """A frame number in FLAC's UTF-8-like coding (RFC 9639, 9.1.5): up to 36 bits in 1 to 7 bytes."""
    if number < 0x80:
        return bytes([number])
    payload_bits = number.bit_length()
    length = 2
    while payload_bits > 5 * length + 1 and length < 7:  # 2 to 7 bytes carry 11, 16, 21, 26, 31, 36 bits
        length += 1
    tail = [0x80 | ((number >> (6 * i)) & 0x3F) for i in range(length - 1)][::-1]
    lead = ((0xFF00 >> length) & 0xFF) | (number >> (6 * (length - 1)))
    return bytes([lead & 0xFF, *tail])


def _number_length(first: int) -> int:
    length = 1
    while first & (0x80 >> (length - 1)) and length < 8:
        length += 1
    return 1 if length == 1 else length - 1


def _header_length(frame: bytes) -> int:
    """Bytes of the frame header before its CRC-8."""
    end = 4 + _number_length(frame[4])
    block_code, rate_code = frame[2] >> 4, frame[2] & 0x0F
    end += {6: 1, 7: 2}.get(block_code, 0)
    end += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    return end


def renumber(frame: bytes, number: int) -> bytes:
    """``frame`` (one frame of a fixed-blocksize stream) as frame ``number`` of its stream.

    Only the header changes; the frame's CRC-16 is corrected arithmetically (the CRC is linear: the header's
    contribution is moved by the length of the rest), so renumbering costs the same for any frame size."""
    if frame[0] != 0xFF or frame[1] != 0xF8:
        raise ValueError("not a frame of a fixed-blocksize FLAC stream")
    old_end = _header_length(frame)
    old_header = frame[:old_end]
    new_header = frame[:4] + _coded_number(number) + frame[4 + _number_length(frame[4]) : old_end]
    if new_header == old_header:
        return frame
    old_head, new_head = old_header + bytes([frame[old_end]]), new_header + bytes([crc8(new_header)])
    body = frame[old_end + 1 : -2]
    old_crc = int.from_bytes(frame[-2:], "big")
    shift = _x_power_bytes(len(body))
    new_crc = old_crc ^ _mulmod(crc16(old_head), shift) ^ _mulmod(crc16(new_head), shift)
    return new_head + body + new_crc.to_bytes(2, "big")


def stream_header(*, sample_rate: int, total_samples: int, block_size: int, min_frame: int, max_frame: int) -> bytes:
    """``fLaC`` and the STREAMINFO block (the only, so the last, metadata block) of a mono 16-bit stream.

    The MD5 signature is left unset (all zeros, which the format allows): it covers every sample, so keeping it
    would mean reading the whole recording on each save."""
    block = min(block_size, total_samples) if total_samples else block_size
    info = (
        block.to_bytes(2, "big")
        + block.to_bytes(2, "big")
        + min_frame.to_bytes(3, "big")
        + max_frame.to_bytes(3, "big")
        + ((sample_rate << 44) | (0 << 41) | (15 << 36) | total_samples).to_bytes(8, "big")
        + bytes(16)
    )
    return b"fLaC" + bytes([0x80, 0, 0, len(info)]) + info


def total_samples(header: bytes) -> int | None:
    """The total samples a FLAC file's STREAMINFO states (its first :data:`HEADER_SIZE` bytes), or ``None`` when it
    is not a FLAC file or leaves the total unstated."""
    if len(header) < HEADER_SIZE or header[:4] != b"fLaC" or header[4] & 0x7F != 0:
        return None
    total = int.from_bytes(header[18:26], "big") & ((1 << 36) - 1)
    return total or None
