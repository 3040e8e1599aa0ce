"""Cluster rounds in ``crawl_runs``: started by ``archiver seed``, finished when the writer drains the stream.

``archiver seed`` (a first seed, or ``--reset``) starts a round: the Redis hash ``<spider>:round`` gets its
id, start time and seeds. The writer opens the round's ``crawl_runs`` row with its first entry (the row's
id is kept in the hash, so a writer that restarts goes on with the same row) and gives every article and
capture row of the round that run id. Workers add their request and response counts to the hash as they
close (:mod:`archiver.cluster.capture`), the writer its article counts as it commits. Once the whole
cluster is done (nothing queued, in flight or in the stream, no live worker) the writer closes the row:
``finished``, with the round's counts and mode.
"""

from __future__ import annotations

import json
import logging
import os
import uuid

from ..clock import utc_now

ROUND_KEY = "%(spider)s:round"  # the current round (this module)

logger = logging.getLogger(__name__)

# Counts workers add to the round as they close: crawl_runs column -> Scrapy stats key (or key prefix).
WORKER_COUNTS = {"requests": "downloader/request_count", "errors": "log_count/ERROR",
                 "warc_bytes": "archiver/warc/bytes", "media_bytes": "archiver/media/bytes",
                 "articles_gone": "archiver/removals", "not_modified": "archiver/not_modified/article"}
ARTICLE_COUNTS = {"new": "articles_new", "updated": "articles_updated", "unchanged": "articles_unchanged",
                  "aliased": "articles_restored"}


def start_round(server, key: str, seeds: list[str], reset: bool) -> bool:
    """A new round (``reset``, or none yet); returns whether one started."""
    if not reset and server.exists(key):
        return False
    pipe = server.pipeline(transaction=True)
    pipe.delete(key, key + ":redirects", key + ":starter")
    pipe.hset(key, mapping={"id": uuid.uuid4().hex, "started": utc_now(), "seeds": json.dumps(seeds)})
    pipe.execute()
    return True


def worker_counts(stats: dict) -> dict[str, int]:
    """What a closing worker adds to its round (see WORKER_COUNTS, and responses by status class)."""
    counts = {column: int(stats.get(name, 0) or 0) for column, name in WORKER_COUNTS.items()}
    for name, value in stats.items():
        if name.startswith("downloader/response_status_count/"):
            column = f"responses_{name.rsplit('/', 1)[1][0]}xx"
            counts[column] = counts.get(column, 0) + int(value)
    return counts


def add_worker_counts(server, key: str, stats: dict, mode: str | None = None) -> None:
    pipe = server.pipeline(transaction=True)
    for column, value in worker_counts(stats).items():
        if value:
            pipe.hincrby(key, column, value)
    if mode:
        pipe.hset(key, "mode", mode)
    pipe.execute()


class Round:
    """The writer's view of the current round (see the module's docstring)."""

    def __init__(self, server, archive, keys: dict):
        self.server, self.archive = server, archive
        self.keys = keys
        self.key = keys.get("round") or keys["stream"].rsplit(":", 1)[0] + ":round"
        self._run_id: int | None = None

    def _field(self, name: str) -> str | None:
        value = self.server.hget(self.key, name)
        return value.decode() if isinstance(value, bytes) else value

    def run_id(self) -> int:
        """The round's ``crawl_runs`` id, the row opened with the round's first entry."""
        if self._run_id is not None:
            return self._run_id
        if not self.server.exists(self.key):  # seeded by hand, or an older `archiver seed`: a round starts here
            start_round(self.server, self.key, [], reset=False)
        started, known = self._field("started"), self._field("run_id")
        if known and self.archive.db.execute("SELECT 1 FROM crawl_runs WHERE id = ? AND started = ?",
                                             [int(known), started]).fetchone():
            self._run_id = int(known)
            return self._run_id
        from ..archive.run_log import RunLog

        run_id = RunLog(self.archive).open(os.getpid())
        self.archive.db["crawl_runs"].update(run_id, {"started": started, "seeds": self._field("seeds") or "[]"})
        self.server.hset(self.key, "run_id", run_id)
        logger.info("Round %s: crawl run %d", self._field("id"), run_id)
        self._run_id = run_id
        return run_id

    def count(self, counts) -> None:
        pipe = self.server.pipeline(transaction=False)
        for name, column in ARTICLE_COUNTS.items():
            if getattr(counts, name):
                pipe.hincrby(self.key, column, getattr(counts, name))
        pipe.execute()

    def drained(self) -> bool:
        """Nothing queued, in flight or unwritten, and no live worker."""
        queue, stream = self.keys.get("queue", "news:requests"), self.keys["stream"]
        if self.server.zcard(queue) or self.server.xlen(stream):
            return False
        if any(self.server.hlen(key) for key in self.server.scan_iter(queue + ":inflight:*")):
            return False
        return not any(True for _ in self.server.scan_iter(queue + ":worker:*"))

    def can_finish(self) -> bool:
        """Whether the round's row is open and the whole cluster is done."""
        if self._field("finished") or not self._field("run_id") or not self.drained():
            return False
        self.run_id()  # a writer restarted after the round's last entry goes on with its row
        return True

    def finish(self) -> None:
        """Close the round's row: finished, with the round's counts and mode."""
        counts = {name: int(value) for name, value in
                  ((k.decode(), v) for k, v in self.server.hgetall(self.key).items())
                  if name.startswith(("articles_", "responses_")) or name in WORKER_COUNTS}
        for column in ARTICLE_COUNTS.values():
            counts.setdefault(column, 0)
        # Articles that answered "not modified" are unchanged too, as in one process's count.
        counts["articles_unchanged"] = counts.get("articles_unchanged", 0) + counts.pop("not_modified", 0)
        row = {"status": "finished", "finish_reason": "finished", "exit_code": 0, "finished": utc_now(),
               "mode": self._field("mode") or "first", **counts}
        columns = self.archive.db["crawl_runs"].columns_dict
        self.archive.db["crawl_runs"].update(self._run_id, {name: value for name, value in row.items()
                                                            if name in columns})
        self.server.hset(self.key, "finished", row["finished"])
        logger.info("Round %s finished: crawl run %d, %d new, %d updated, %d unchanged; %d requests",
                    self._field("id"), self._run_id, counts.get("articles_new", 0),
                    counts.get("articles_updated", 0), counts.get("articles_unchanged", 0),
                    counts.get("requests", 0))
