"""``archiver demo``: its captures in a folder of its own, its replica on the same port again, so that a --keep
run is incremental; a fresh demo removes the old captures, and the demo archive verifies after any number of runs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from conftest import free_port


def demo(db, *options):
    done = subprocess.run([sys.executable, "-c", "import sys; from archiver.cli import main; sys.exit(main())", "demo",
                           "--db", str(db), "--articles", "34", "--log-level", "WARNING", *options],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def verify(db):
    """archiver verify as the demo prints it: the demo's own capture folder found without --warc-dir."""
    done = subprocess.run([sys.executable, "-c", "import sys; from archiver.cli import main; sys.exit(main())",
                           "verify", "--db", str(db)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "archiver verify: OK; checked" in done.stdout and "nothing" not in done.stdout, done.stdout


def test_demo_keeps_its_port_and_captures_and_recrawls_incrementally(tmp_path):
    db = tmp_path / "data" / "demo.db"
    port = free_port()
    demo(db, "--port", str(port))
    assert (tmp_path / "data" / "demo" / "port").read_text().strip() == str(port)
    assert list((tmp_path / "data" / "demo" / "warc").glob("*.warc.gz"))
    assert not (tmp_path / "data" / "warc").exists() and not (tmp_path / "data" / "media").exists()
    verify(db)

    out = demo(db, "--keep")  # no --port: the last run's
    assert f":{port}/news/" in out
    with sqlite3.connect(db) as connection:
        runs = connection.execute("select mode, requests, articles_new from crawl_runs order by id").fetchall()
    assert [mode for mode, _, _ in runs] == ["first", "incremental"]
    assert runs[1][2] == 0 and runs[1][1] < 0.25 * runs[0][1], runs
    verify(db)

    demo(db)  # fresh: the old archive and captures go
    with sqlite3.connect(db) as connection:
        assert connection.execute("select count(*) from crawl_runs").fetchone()[0] == 1
    assert len(list((tmp_path / "data" / "demo" / "warc").glob("*.warc.gz"))) == 1
    verify(db)
