"""One gzip member per WARC record, its payload stored rather than deflated when it is compressed already
(:mod:`archiver.capture.warc` writes them; any gzip reader sees an ordinary member)."""

from __future__ import annotations

import struct
import zlib

from warcio.statusandheaders import StatusAndHeaders

GZIP_LEVEL = 6  # warcio's default is 9: several times slower for a few per cent


# Payloads deflate cannot shrink: bodies sent with a Content-Encoding, and formats compressed already.
# Deflating one costs CPU for nothing: the head (WARC and HTTP headers) is deflated, the payload stored
# (benchmarks/NOTES.md).
COMPRESSED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "video/", "audio/",
                    "application/zip", "application/gzip", "application/x-gzip")
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # deflate, no name, no time, Unix: as zlib writes it


def already_compressed(http_headers: StatusAndHeaders) -> bool:
    """Whether a response's body is compressed already: a Content-Encoding other than identity, or a type
    in COMPRESSED_TYPES."""
    encoding = (http_headers.get_header("Content-Encoding") or "").strip().lower()
    if encoding not in ("", "identity"):
        return True
    content_type = (http_headers.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
    return content_type.startswith(COMPRESSED_TYPES)


def _gzip_member(data: bytes, stored_tail: int = 0) -> bytes:
    """``data`` as one gzip member, its last ``stored_tail`` bytes stored rather than deflated.

    The deflated head and the stored tail are two raw deflate streams that make one: the first is
    flushed to a byte boundary without a final block (Z_SYNC_FLUSH), the second is stored blocks, which
    refer to nothing before them. Any gzip reader sees an ordinary member.
    """
    stored_tail = min(max(stored_tail, 0), len(data))
    if not stored_tail:
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        return compressor.compress(data) + compressor.flush()
    view, split = memoryview(data), len(data) - stored_tail
    head = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    tail = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS)
    return b"".join((GZIP_HEADER, head.compress(view[:split]), head.flush(zlib.Z_SYNC_FLUSH),
                     tail.compress(view[split:]), tail.flush(),
                     struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)))
