"""Where an archive's WARC and media files live, for every command that opens an archive.

``warc/`` and ``media/`` beside the database (``data/warc`` for ``data/archive.db``), unless the archive has a
folder of its own named after it holding them (``data/demo/warc`` for ``data/demo.db``, as ``archiver demo``
keeps its captures apart from the real archive's). ``WARC_DIR`` / ``MEDIA_DIR`` and ``--warc-dir`` /
``--media-dir`` override both.
"""

from __future__ import annotations

from pathlib import Path


def own_folder(db: str | Path) -> Path:
    """The folder named after the archive: ``data/demo/`` for ``data/demo.db``."""
    db = Path(db)
    return db.with_suffix("") if db.suffix else db.with_name(db.name + ".files")


def store_dir(db: str | Path, name: str) -> Path:
    """``name`` (``warc`` or ``media``) in the archive's own folder when it is there, else beside the database."""
    own = own_folder(db) / name
    return own if own.is_dir() else Path(db).parent / name
