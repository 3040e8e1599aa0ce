"""An article's images and documents, linked to their captures: never downloaded.

Each medium gets what a crawl's media pipeline gives it (SHA-256, path in the media store, size, type), from the
record of its first download in the WARC files. A file the media store lacks (WARC files from another tool, or
another machine) is put there from that record, content-addressed as a crawl stores it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ..capture.media_files import media_relpath, safe_extension, store_file, stored_path
from .inventory import Inventory
from .records import payload_at


def iso_time(warc_date: str) -> str | None:
    """A WARC date as the archive's times are written (UTC, to the second, ISO 8601)."""
    try:
        moment = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


class MediaLinks:
    """The media store of one archive (``media_dir``) and what the WARC files hold (``inventory``)."""

    def __init__(self, inventory: Inventory, media_dir: Path, db_path: str):
        self.inventory, self.media_dir, self.db_path = inventory, Path(media_dir), db_path
        self.stored = 0  # files put into the media store from the WARC files

    def link(self, entries: list[dict], key: str) -> None:
        """Give each image (``key`` ``src``) or document (``url``) that was downloaded its file's columns."""
        for entry in entries:
            url = entry.get(key)
            found = self.inventory.media_for(url) if url else None
            if found is not None:
                entry.update(self._file(url, found))

    def _file(self, url: str, found) -> dict:
        relpath = media_relpath(found.sha256, safe_extension(found.content_type, url))
        target = self.media_dir / relpath
        if not (target.exists() and target.stat().st_size == found.size):
            store_file(self.media_dir, payload_at(found.path, found.offset), found.content_type, url)
            self.stored += 1
        return {"sha256": found.sha256, "path": stored_path(self.media_dir, relpath, self.db_path),
                "bytes": found.size, "content_type": found.content_type, "fetched_at": iso_time(found.date)}
