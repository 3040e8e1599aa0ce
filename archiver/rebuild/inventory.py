"""The rebuild's first pass over the WARC files: what they hold, before any article is written.

A crawl downloads an article's images and documents after the article, and follows redirects before the page
they lead to: so the media captures (their SHA-256, size and type) and the redirects are read first, in one
streamed pass that also checks every record reads (a damaged file stops the rebuild before it writes a row).
It notes where each HTML page is, for the extraction workers to read it there themselves. What is kept is a
few hundred bytes per record, never a payload.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from .records import MAX_REDIRECTS, Capture, Originals, Place, payload_at, read_records


@dataclass(frozen=True)
class MediaCapture:
    """A file a crawl downloaded (an answer 200 that is no HTML page), as the crawl's media rows describe it."""

    sha256: str
    size: int
    content_type: str | None
    date: str
    path: Path
    offset: int


@dataclass
class Inventory:
    pages: int = 0  # HTML pages to extract
    counts: Counter = field(default_factory=Counter)  # response records by what they are (see kind())
    statuses: Counter = field(default_factory=Counter)  # response records by status class: 2xx, 3xx...
    redirects: dict[str, str] = field(default_factory=dict)  # URL -> where its 3xx answer led (absolute)
    media: dict[str, MediaCapture] = field(default_factory=dict)  # URL -> its first download
    originals: Originals = field(default_factory=Originals)
    # Hash of a request's record id, and of its response's (WARC-Concurrent-To) -> the request's Referer.
    referers: dict[int, str] = field(default_factory=dict)

    def final_url(self, url: str) -> str:
        """Where a URL's redirects end (itself when it was not redirected)."""
        for _ in range(MAX_REDIRECTS):
            if url not in self.redirects:
                break
            url = self.redirects[url]
        return url

    def referer(self, capture: Capture) -> str:
        """The Referer of the request a response answered ("" if none is known)."""
        return self.referers.get(hash(capture.record_id)) or self.referers.get(hash(capture.concurrent_to), "")

    def media_for(self, url: str) -> MediaCapture | None:
        """The download of a media URL (through its redirects, as a crawl's download follows them), or None."""
        return self.media.get(url) or self.media.get(self.final_url(url))

    @property
    def skipped(self) -> dict[str, int]:
        """Response records that are no page to extract, by kind."""
        return {kind: count for kind, count in sorted(self.counts.items()) if kind != "page" and count}


def kind(capture: Capture) -> str:
    """``page`` (an HTML page to extract), ``media`` (any other 2xx), ``redirect``, ``not_modified``,
    ``http_error`` (4xx, 5xx) or ``no_status``."""
    if capture.is_html_page:
        return "page"
    if 200 <= capture.status < 300:
        return "media"
    if capture.status == 304:
        return "not_modified"
    if 300 <= capture.status < 400:
        return "redirect"
    return "http_error" if capture.status >= 400 else "no_status"


def read_inventory(paths: list[Path], inventory: Inventory, index: Callable | None = None) -> Iterator[Place | None]:
    """Read every record of ``paths`` once into ``inventory`` (raises :class:`archiver.rebuild.records.BadInput`),
    yielding, record by record, where each HTML page to extract is (None for any other record): so that the
    pages go to the extraction workers while the rest of the files is read. ``index``, if given, sees every
    record once read, as :func:`archiver.rebuild.records.read_records` calls it."""
    media_by_record: dict[tuple[Path, int], tuple[str, int]] = {}
    for path in paths:
        for capture in read_records(path, index=index):
            yield _note(inventory, capture, media_by_record)


def _note(inventory: Inventory, capture: Capture, media_by_record: dict) -> Place | None:
    if capture.record_type == "request":
        if capture.referer:  # a few listing pages are the referers of most requests: interned
            referer = sys.intern(capture.referer)
            for record_id in filter(None, (capture.concurrent_to, capture.record_id)):
                inventory.referers[hash(record_id)] = referer
        return None
    what = kind(capture)
    original = inventory.originals.of(capture) if capture.record_type == "revisit" else None
    if capture.record_type == "revisit" and original is None:
        what = "revisit_without_original"
    inventory.counts[what] += 1
    inventory.statuses[f"{capture.status // 100}xx"] += 1
    if capture.record_type == "response":
        inventory.originals.note(capture)
    if what == "page":
        inventory.pages += 1
        return Place(capture.path, capture.offset, original)
    if what == "redirect" and capture.location:
        inventory.redirects.setdefault(capture.url, urljoin(capture.url, capture.location))
    elif what == "media" and capture.status == 200:  # the crawl stores a medium only when answered 200
        _note_media(inventory, capture, original, media_by_record)
    return None


def _note_media(inventory: Inventory, capture: Capture, original: tuple | None, media_by_record: dict) -> None:
    if capture.url in inventory.media:
        return
    where = (capture.path, capture.offset)
    if capture.record_type == "response":
        body = capture.own_payload()
        digest = media_by_record[where] = (hashlib.sha256(body).hexdigest(), len(body))
    else:  # the payload is the original's, and read from there
        where = original
        digest = media_by_record.get(where)
        if digest is None:
            body = payload_at(*where)
            digest = (hashlib.sha256(body).hexdigest(), len(body))
    inventory.media[capture.url] = MediaCapture(digest[0], digest[1], capture.content_type or None,
                                                capture.date, *where)
