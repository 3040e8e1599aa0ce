"""The demo's files (``archiver demo``): its captures and its replica's port, in a folder beside its archive.

``data/demo.db`` keeps its WARC files, media files and the port its replica last served on in ``data/demo/``, never
in the real archive's ``data/warc`` and ``data/media``. The replica is served on that port again, so that a
``--keep`` run requests the same URLs and is a real incremental run (another port would make every URL new).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .stores import own_folder


def demo_dir(db: Path) -> Path:
    """The folder of the demo archive ``db``'s own files: ``data/demo/`` for ``data/demo.db``."""
    return own_folder(db)


def capture_settings(db: Path) -> list[str]:
    """The crawl's settings that put the demo's WARC and media files in its folder."""
    folder = demo_dir(db)
    return [f"WARC_DIR={folder / 'warc'}", f"MEDIA_DIR={folder / 'media'}"]


def remove(db: Path) -> None:
    """A fresh demo: the old archive and every file it captured."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    for name in ("warc", "media"):
        shutil.rmtree(demo_dir(db) / name, ignore_errors=True)


def previous_port(db: Path) -> int:
    """The port the demo's replica last served on, or 0 (none remembered)."""
    try:
        text = (demo_dir(db) / "port").read_text().strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else 0


def remember_port(db: Path, port: int) -> None:
    folder = demo_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "port").write_text(f"{port}\n")


def serve(site, port: int, serve_replica):
    """The replica on ``port`` if it is free, else on a free one (returns the server and whether it fell back)."""
    if port:
        try:
            return serve_replica(site, port=port), False
        except OSError:
            pass
    return serve_replica(site, port=0), bool(port)
