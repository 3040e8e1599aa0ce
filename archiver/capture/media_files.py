"""The media store's files: content-addressed names and writes, shared by the crawl's media pipeline
(:mod:`archiver.capture.media`) and ``archiver rebuild``, which takes media from WARC records (no Scrapy here).

    MEDIA_DIR/ab/cd/abcd...ef.jpg        (MEDIA_DIR defaults to media/ next to ARCHIVE_DB)
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

SAFE_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")
KNOWN_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
                    "image/svg+xml": "svg", "application/pdf": "pdf", "image/tiff": "tif", "image/bmp": "bmp",
                    "application/msword": "doc", "text/plain": "txt"}


def safe_extension(content_type: str | None, url: str) -> str:
    """A short, safe file extension: from the Content-Type, else the URL's, else ``bin``."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in KNOWN_EXTENSIONS:
        return KNOWN_EXTENSIONS[mime]
    guessed = mimetypes.guess_extension(mime) if mime and mime != "application/octet-stream" else None
    if guessed and SAFE_EXTENSION.match(guessed[1:]):
        return guessed[1:]
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return extension if SAFE_EXTENSION.match(extension) else "bin"


def media_relpath(sha256: str, extension: str) -> str:
    """``ab/cd/<sha256>.<ext>``: the digest is hex and the extension checked, so the path is always safe."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not SAFE_EXTENSION.match(extension):
        raise ValueError(f"unsafe media name: {sha256!r}.{extension!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def stored_path(media_dir: Path, relpath: str, db_path: str | None) -> str:
    """The path stored in the archive: relative to the archive's directory when the media are under it."""
    full = (Path(media_dir) / relpath).resolve()
    if db_path:
        base = Path(db_path).resolve().parent
        try:
            return full.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(full)


def store_file(media_dir: Path, body: bytes, content_type: str | None, url: str) -> tuple[str, str, bool]:
    """Store ``body`` by its SHA-256; returns (sha256, path under media_dir, written now). An ``OSError``
    names the file, and leaves no partial file behind."""
    sha256 = hashlib.sha256(body).hexdigest()
    relpath = media_relpath(sha256, safe_extension(content_type, url))
    target = Path(media_dir) / relpath
    if target.exists() and target.stat().st_size == len(body):
        return sha256, relpath, False
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(body)
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(target)) from error
    return sha256, relpath, True
