"""``archiver verify``'s checks of what replay reads: each WARC record as one complete gzip member, and the CDXJ
index line by line against the records it points at (:mod:`archiver.capture.verify` runs them).

pywb reads a CDXJ line's ``offset`` and ``length`` and trusts them: a wrong length, a damaged SURT key or an
unsorted index (pywb binary-searches it) each breaks replay of the captures concerned, though every record is
sound. Each problem is one line naming the file, the offset or the index line.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from .index import cdx_timestamp, surt_key
from .repair import parse_member


class RecordProblem(Exception):
    """A record that cannot be read back whole: the message says why, in one line."""


def read_record(path: Path, offset: int, length: int):
    """The one record stored at ``offset`` of ``path`` as a gzip member of ``length`` bytes: (record, payload).
    Raises :class:`RecordProblem` when the bytes there are not exactly one complete gzip member holding one
    WARC record."""
    with open(path, "rb") as file:
        file.seek(offset)
        member = file.read(length)
    where = f"record at offset {offset} of {path.name}"
    if len(member) != length:
        raise RecordProblem(f"{where} is cut short: the file ends {length - len(member)} bytes before its end")
    inflater = zlib.decompressobj(zlib.MAX_WBITS + 16)
    try:
        inflater.decompress(member)
    except zlib.error:
        raise RecordProblem(f"{where} is not a complete gzip member") from None
    if not inflater.eof:
        raise RecordProblem(f"{where} is not a complete gzip member")
    if inflater.unused_data:
        raise RecordProblem(f"{where}: {length} bytes hold more than one gzip member "
                            f"(the member ends {length - len(inflater.unused_data)} bytes in)")
    try:
        return parse_member(member)
    except Exception as error:  # noqa: BLE001 - whatever the parser says, the record is unreadable
        raise RecordProblem(f"{where} is not a readable WARC record ({type(error).__name__}: "
                            f"{str(error).splitlines()[0] if str(error) else ''})") from None


def summary(record) -> tuple[str, str | None, str | None, str | None]:
    """What a CDXJ line is checked against: (type, URI, WARC-Date, payload digest) of a record."""
    headers = record.rec_headers
    return (record.rec_type, headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"),
            headers.get_header("WARC-Payload-Digest"))


def parse_line(line: str) -> tuple[str, str, dict]:
    """(SURT key, timestamp, JSON fields) of a CDXJ line; ValueError if it is not one."""
    key, timestamp, fields = line.split(" ", 2)
    fields = json.loads(fields)
    if not isinstance(fields, dict):
        raise ValueError("its JSON is not an object")
    return key, timestamp, fields


def index_problems(index: Path, warc_dir: Path, known: dict | None = None):
    """One line per problem of the CDXJ index: unreadable lines, order, and every line against its record.
    ``known``: (file name, offset, length) -> :func:`summary` of records read back already (the rows' check),
    which are not read again."""
    lines = index.read_text(encoding="utf-8").splitlines()
    previous = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if previous is not None and line < previous:
            yield (f"CDXJ UNSORTED {index.name}:{number}: the line sorts before line {number - 1} "
                   f"(pywb binary-searches the index; `archiver verify --repair` sorts it)")
            previous = None  # one line per place the order breaks
        else:
            previous = line
        try:
            key, timestamp, fields = parse_line(line)
            filename, offset, length = fields["filename"], int(fields["offset"]), int(fields["length"])
        except (KeyError, ValueError, TypeError):
            yield f"CDXJ unreadable line {index.name}:{number}: {line[:120]}"
            continue
        yield from line_problems(f"CDXJ {index.name}:{number}", key, timestamp, fields, warc_dir / filename,
                                 offset, length, (known or {}).get((filename, offset, length)))


def line_problems(where: str, key: str, timestamp: str, fields: dict, path: Path, offset: int, length: int,
                  known: tuple | None = None):
    """A CDXJ line against the record it points at (``known``: its :func:`summary`, if read already): URI, date,
    digest and SURT key."""
    if known is None:
        if not path.exists():
            yield f"{where}: names {path.name}, which is not in {path.parent}"
            return
        try:
            known = summary(read_record(path, offset, length)[0])
        except RecordProblem as problem:
            yield f"{where}: {problem}"
            return
    rec_type, url, date, digest = known
    if rec_type not in ("response", "revisit"):
        yield f"{where}: points at a {rec_type} record ({path.name}@{offset}), not a response or revisit"
    if fields.get("url") != url:
        yield f"{where}: URL {fields.get('url')} but the record at {path.name}@{offset} is of {url}"
    if timestamp != cdx_timestamp(date or ""):
        yield f"{where}: date {timestamp} but the record's WARC-Date is {date}"
    digest = digest or "-"
    if (fields.get("digest") or "-") != digest:
        yield f"{where}: digest {fields.get('digest')} but the record's payload digest is {digest}"
    if url and key != surt_key(url):
        yield f"{where}: SURT key {key} is not that of {url} ({surt_key(url)})"
