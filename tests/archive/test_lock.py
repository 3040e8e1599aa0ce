"""The archive's lock: one crawl per archive, however its path is written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from archiver.archive.lock import ArchiveLock, ArchiveLocked


@pytest.fixture
def archive(tmp_path):
    """An archive, a symlink to it, and a symlink to its folder."""
    folder = tmp_path / "real"
    folder.mkdir()
    db = folder / "archive.db"
    db.touch()
    (tmp_path / "link.db").symlink_to(db)
    (tmp_path / "folder-link").symlink_to(folder, target_is_directory=True)
    return db, tmp_path / "link.db", tmp_path / "folder-link" / "archive.db"


def test_the_same_archive_through_a_symlink_is_locked_out(archive):
    db, file_link, folder_link = archive
    holder = ArchiveLock(db)
    holder.acquire()
    try:
        for other in (file_link, folder_link):
            with pytest.raises(ArchiveLocked, match=f"pid {os.getpid()}"):
                ArchiveLock(other).acquire()
    finally:
        holder.release()
    through_link = ArchiveLock(file_link)
    through_link.acquire()  # released: free again, whichever path names it
    with pytest.raises(ArchiveLocked):
        ArchiveLock(db).acquire()
    through_link.release()


def test_another_process_holding_the_archive_through_a_symlink_locks_it_out(archive):
    db, file_link, _ = archive
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from archiver.archive.lock import ArchiveLock
        lock = ArchiveLock({str(file_link)!r})  # held while it lives
        lock.acquire()
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes our stdin
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ArchiveLocked, match=f"pid {holder.pid}"):
            ArchiveLock(db).acquire()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    lock = ArchiveLock(db)
    lock.acquire()  # the holder is gone, and its lock with it
    lock.release()
