"""pywb for the replay tests, in a virtualenv of its own: pywb 2.10 pins redis<3, the project's cluster extra needs
redis>=5, so the two cannot share one environment (README, "Archive layout and replay"). The venv is made once
(PYWB_VENV, default ~/.cache/archiver-tests/pywb-venv) and reused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

PYWB_VERSION = "2.10.0"


def pywb_venv() -> Path:
    """The venv holding pywb (made on first use): skips where it cannot be made, fails on CI."""
    venv = Path(os.environ.get("PYWB_VENV") or Path.home() / ".cache" / "archiver-tests" / "pywb-venv")
    wayback = venv / "bin" / "wayback"
    if wayback.exists():
        return venv
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"pywb=={PYWB_VERSION}"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as error:
        shutil.rmtree(venv, ignore_errors=True)
        message = f"pywb could not be installed in {venv}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return venv


def collection(root: Path, name: str, warc_dir: Path) -> None:
    """A pywb collection of the archive's WARC files (linked) and its own CDXJ index (copied), as the README's
    in-place recipe sets it up."""
    archive, indexes = root / "collections" / name / "archive", root / "collections" / name / "indexes"
    archive.mkdir(parents=True)
    indexes.mkdir(parents=True)
    for path in sorted(warc_dir.glob("*.warc.gz")):
        (archive / path.name).symlink_to(path)
    shutil.copy(warc_dir / "index.cdxj", indexes / "index.cdxj")


@contextmanager
def wayback(venv: Path, root: Path, port: int, log: Path):
    """pywb's server on 127.0.0.1:port over the collections in ``root``; its access log in ``log``."""
    with open(log, "wb") as out:
        process = subprocess.Popen([str(venv / "bin" / "wayback"), "-b", "127.0.0.1", "-p", str(port), "-t", "4"],
                                   cwd=root, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pywb did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
