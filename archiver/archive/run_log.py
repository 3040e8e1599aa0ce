"""The archive's record of its crawl runs: the ``crawl_runs`` table, and what a run's health checks read.

A run (:class:`archiver.crawl.runs.ArchiveRun`) opens its row when it starts, marks the runs that
died before it, and fills in its counts, coverage, status and exit code when it ends.
"""

from __future__ import annotations

import json

from ..clock import utc_now


class RunLog:
    """``crawl_runs`` of one archive (an :class:`archiver.archive.storage.Archive`)."""

    def __init__(self, archive):
        self.db = archive.db

    def close_dead_runs(self) -> tuple[int, str] | None:
        """Runs still marked running died (the caller holds the archive's lock): marked interrupted.

        Returns the last run (id, status) if it did not finish, else ``None``.
        """
        self.db.execute("UPDATE crawl_runs SET status = 'interrupted', finished = coalesce(finished, ?) "
                        "WHERE status = 'running'", [utc_now()])
        last = self.db.execute("SELECT id, status FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        if last and last[1] in ("interrupted", "failed"):
            return last[0], last[1]
        return None

    def unfinished_runs(self) -> list[int]:
        """The runs since the last one that finished which died or failed: whose files the next run checks."""
        return [run_id for (run_id,) in self.db.execute(
            "SELECT id FROM crawl_runs WHERE status IN ('interrupted', 'failed') AND id > "
            "coalesce((SELECT max(id) FROM crawl_runs WHERE status = 'finished'), 0) ORDER BY id")]

    def open(self, pid: int) -> int:
        """A new run, running; returns its id. Its mode is known at its end (:meth:`close`)."""
        return self.db["crawl_runs"].insert({
            "started": utc_now(), "status": "running", "pid": pid, "mode": "incremental",
        }).last_pk

    def record_seeds(self, run_id: int, seeds: list[str]) -> None:
        self.db["crawl_runs"].update(run_id, {"seeds": json.dumps(seeds)})

    def close(self, run_id: int, row: dict) -> None:
        """The run's end: ``row`` holds its counts, status, coverage and exit code; ``finished`` is now."""
        self.db["crawl_runs"].update(run_id, {**row, "finished": utc_now()})

    def earlier_coverage(self, run_id: int, runs: int = 5) -> list[dict]:
        """The field coverage of the last ``runs`` finished runs before ``run_id``, newest first."""
        return [json.loads(coverage) for (coverage,) in self.db.execute(
            "SELECT coverage FROM crawl_runs WHERE id < ? AND status = 'finished' AND coverage IS NOT NULL "
            "ORDER BY id DESC LIMIT ?", [run_id, runs])]

    def newest_first_seen(self) -> str | None:
        """When the newest article was first archived (``None`` in an empty archive)."""
        return self.db.execute("SELECT max(first_seen) FROM articles").fetchone()[0]
