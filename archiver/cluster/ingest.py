"""``archiver ingest``: the cluster's one writer, from the Redis item stream into the archive.

The stream (``<spider>:archive``) holds, in the order workers sent them:

- ``{"item": <article JSON>}``: stored with the single process's ``Archive.save`` (same normalization,
  deduplication and versions), its media paths made the writer's store's (:func:`media_paths`);
- ``{"captures": [row, ...]}``: the locations of WARC records a worker wrote
  (:mod:`archiver.cluster.capture`), recorded as ``captures`` rows and CDXJ lines as one process does;
  a row recorded already (a batch redelivered) is not recorded twice.

Entries are read with a consumer group; a batch is acknowledged (and deleted) only after its transaction
committed. A writer that starts first takes over what an earlier writer read but did not acknowledge.
The round's ``crawl_runs`` row is the writer's (:mod:`archiver.cluster.rounds`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

INGEST_GROUP = "archiver"


def media_paths(entries: list[dict], media_dir: Path, db: str) -> None:
    """A worker's media entries point at its own store; here each path is the writer's store's (files are
    named by their SHA-256, so gathering the workers' stores into one keeps every path true)."""
    from ..capture.media import media_relpath, stored_path

    for entry in entries:
        sha256, path = entry.get("sha256"), entry.get("path")
        if sha256 and path:
            extension = str(path).rsplit(".", 1)[-1]
            entry["path"] = stored_path(media_dir, media_relpath(sha256, extension), db)


class Ingester:
    """The one writer: Redis Stream -> archive, acknowledged after commit (see the module's docstring).

    Storing an unchanged article again adds no row and recording a capture row again is skipped, so a
    redelivered entry changes nothing.
    """

    def __init__(self, redis_url: str, db: str, stream: str, group: str = INGEST_GROUP, consumer: str = "writer",
                 batch_size: int = 25, block_ms: int = 1000, warc_dir: str | None = None,
                 media_dir: str | None = None, cluster_keys: dict | None = None, revisit_policy=None):
        import redis

        from ..archive.storage import Archive, SaveCounts
        from ..capture.verify import archive_dirs
        from .rounds import Round

        self.server = redis.Redis.from_url(redis_url)
        self.stream, self.group, self.consumer = stream, group, consumer
        self.batch_size, self.block_ms = max(1, batch_size), block_ms
        self.db = db
        self.archive = Archive(db)
        self.warc_dir, self.media_dir = archive_dirs(db, warc_dir, media_dir)
        self.cdxj_lines = 0  # appended since the index was last sorted
        self.totals = SaveCounts()
        self.entries = self.redelivered = self.failed = self.captures = 0
        self.stopping = False
        self.round = Round(self.server, self.archive, cluster_keys or {"stream": stream})
        self._replay = None
        self.revisit_policy = revisit_policy  # the project's settings' (one process's crawl uses the same)
        try:
            self.server.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def claim_orphans(self) -> int:
        """Take over entries pending for other consumers of the group (a writer that died under another name)."""
        claimed, start = 0, "0-0"
        while True:
            reply = self.server.xautoclaim(self.stream, self.group, self.consumer, min_idle_time=0,
                                           start_id=start, count=100)
            start = reply[0]
            claimed += len(reply[1])
            if start in (b"0-0", "0-0"):
                return claimed

    def read(self, pending: bool) -> list[tuple[bytes, dict]]:
        reply = self.server.xreadgroup(self.group, self.consumer, {self.stream: "0" if pending else ">"},
                                       count=self.batch_size, block=None if pending else self.block_ms)
        return reply[0][1] if reply else []

    def store(self, entries: list[tuple[bytes, dict]]) -> None:
        """Write one batch, in the order the workers sent it (a capture row before the article that points at
        it, a page's crawl state before its article), then acknowledge it."""
        items, ids, bad = [], [], []
        for entry_id, fields in entries:
            ids.append(entry_id)
            if not fields:  # deleted from the stream while pending: nothing to store
                continue
            try:
                if b"item" in fields:
                    item = json.loads(fields[b"item"])
                    media_paths([*(item.get("images") or ()), *(item.get("documents") or ())], self.media_dir,
                                self.db)
                    items.append(item)
                    continue
                self.save(items, bad)  # the items before it first
                items = []
                if b"captures" in fields:
                    self.record_captures(json.loads(fields[b"captures"]), self.round.run_id())
                elif b"state" in fields:
                    self.replay().apply(json.loads(fields[b"state"]))
                else:
                    raise KeyError("no item, captures or state")
            except (KeyError, ValueError) as error:
                bad.append((entry_id, fields, f"not an entry: {error}"))
        self.save(items, bad)
        pipe = self.server.pipeline(transaction=True)
        for entry_id, fields, error in bad:
            self.failed += 1
            logger.error("Item not stored (%s), kept in %s:failed", error, self.stream)
            pipe.xadd(self.stream + ":failed", {**fields, b"error": error.encode(), b"id": entry_id or b""})
        pipe.xack(self.stream, self.group, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()
        self.entries += len(entries)

    def replay(self):
        """The round's crawl state (:class:`archiver.cluster.state.StateReplay`)."""
        from .state import StateReplay

        run_id = self.round.run_id()
        if self._replay is None or self._replay.run_id != run_id:
            self._replay = StateReplay(self.archive, run_id, self.server, self.stream, self.revisit_policy)
        return self._replay

    def save(self, items: list[dict], bad: list) -> None:
        """Articles with the crawl state that led to them, in one transaction, as one process saves them."""
        if not items:
            return
        replay = self.replay()
        try:
            self.count(replay.save(items))
        except Exception:
            logger.exception("Batch of %d could not be stored; storing its items one by one", len(items))
            for item in items:
                try:
                    self.count(replay.save([item]))
                except Exception as error:  # noqa: BLE001 - kept for inspection, never lost silently
                    bad.append((None, {b"item": json.dumps(item).encode()}, repr(error)))

    def record_captures(self, rows: list[dict], run_id: int | None) -> None:
        """``captures`` rows (those not recorded yet), then their CDXJ lines, as one process writes them."""
        from ..archive.captures import recorded_locations
        from ..capture.index import append_cdxj

        known = recorded_locations(self.archive.db, rows)
        fresh = [{**row, "run_id": run_id} for row in rows if (row["warc_file"], row["offset"]) not in known]
        if fresh:
            self.archive.add_captures(fresh)
        # Every row's line, recorded now or before (a writer that died between the rows and their lines):
        # the index is sorted without duplicates.
        self.warc_dir.mkdir(parents=True, exist_ok=True)
        append_cdxj(self.warc_dir / "index.cdxj", rows)
        self.captures += len(fresh)
        self.cdxj_lines += len(rows)

    def count(self, counts) -> None:
        for name in ("new", "updated", "unchanged", "aliased"):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(counts, name))
        self.round.count(counts)

    def run(self, idle_exit: float | None = None) -> None:
        """Write until stopped, or until the stream brought nothing for ``idle_exit`` seconds and the cluster has
        nothing queued or in flight and no live worker (workers that start after the writer are waited for)."""
        from .state import published

        if not published(self.server, self.stream):  # workers crawl incrementally from the first round on
            self.publish()
        claimed = self.claim_orphans()
        while not self.stopping:  # first what an earlier writer read and did not acknowledge
            entries = self.read(pending=True)
            if not entries:
                break
            self.redelivered += len(entries)
            self.store(entries)
        if self.redelivered or claimed:
            logger.info("Redelivered %d unacknowledged entries", self.redelivered)
        last = time.monotonic()
        while not self.stopping:
            entries = self.read(pending=False)
            if entries:
                self.store(entries)
                last = time.monotonic()
            else:
                self.quiet()
            # Idle: nothing came for idle_exit seconds, and nothing is queued or in flight that could still come.
            if not entries and idle_exit is not None and time.monotonic() - last >= idle_exit \
                    and self.round.drained():
                break

    def quiet(self) -> None:
        """The stream went quiet: the CDXJ index sorted, the analysis layer refreshed, the round finished if
        the whole cluster is done."""
        if self.entries != getattr(self, "refreshed_at", 0):
            self.sort_index()
            self.refresh_analysis()
        self.finish_round()

    def finish_round(self) -> None:
        """Once the whole cluster is done: the round's last crawl state written (redirects made aliases), its
        row closed, and what the next round's workers read published."""
        if not self.round.can_finish():
            return
        aliased = self.replay().finish()
        if aliased:
            logger.info("%d redirect sources recorded as aliases of articles already archived", aliased)
        self.round.finish()
        self.publish()

    def publish(self) -> None:
        from .state import publish

        publish(self.server, self.archive, self.stream, policy=self.revisit_policy)

    def sort_index(self) -> None:
        from ..capture.index import sort_cdxj

        if self.cdxj_lines:
            sort_cdxj(self.warc_dir / "index.cdxj")
            self.cdxj_lines = 0

    def refresh_analysis(self) -> None:
        """Search index, stems, translations and Datasette metadata (:mod:`archiver.archive.explore`) after a burst."""
        from ..archive.explore import refresh_quietly

        refresh_quietly(self.archive.db, self.db)
        self.refreshed_at = self.entries

    def close(self) -> None:
        self.sort_index()
        if self.entries != getattr(self, "refreshed_at", 0):
            self.refresh_analysis()
        self.finish_round()
        total = self.archive.count()
        self.archive.close()
        t = self.totals
        logger.info("Ingested %d entries (%d redelivered, %d failed) into %s: %d new, %d updated, %d unchanged, "
                    "%d stored under another URL; %d captures recorded; %d articles in all", self.entries,
                    self.redelivered, self.failed, self.db, t.new, t.updated, t.unchanged, t.aliased,
                    self.captures, total)


def ingest_command(arguments) -> int:
    from ..archive.lock import ArchiveLock, ArchiveLocked
    from ..crawl.bookkeeping import revisit_policy
    from ..crawl.runs import EXIT_LOCKED
    from .addon import cluster_settings, keys, safe_redis_url

    logging.basicConfig(level=arguments.log_level, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    url = arguments.redis_url or os.environ.get("REDIS_URL", "")
    if not url:
        print("archiver ingest: give --redis-url URL or set REDIS_URL", file=sys.stderr)
        return 2
    settings = cluster_settings(url)
    db = arguments.db or settings.get("ARCHIVE_DB")
    names = keys(settings)
    stream = arguments.stream or names["stream"]
    batch = arguments.batch_size or settings.getint("ARCHIVE_BATCH_SIZE")
    lock = ArchiveLock(db)  # the one writer: no crawl, and no other writer, on this archive meanwhile
    try:
        lock.acquire()
    except ArchiveLocked as locked:
        print(f"archiver ingest: another process writes this archive ({locked}); exiting", file=sys.stderr)
        return EXIT_LOCKED
    try:
        ingester = Ingester(url, db, stream, group=arguments.group, consumer=arguments.consumer, batch_size=batch,
                            warc_dir=settings.get("WARC_DIR") or None, media_dir=settings.get("MEDIA_DIR") or None,
                            cluster_keys={**names, "stream": stream}, revisit_policy=revisit_policy(settings))

        def stop(signum, frame):  # finish the batch at hand, then leave
            logger.info("Signal %d: stopping after the current batch", signum)
            ingester.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("Ingesting %s (group %s, consumer %s) from %s into %s", stream, arguments.group,
                    arguments.consumer, safe_redis_url(url), db)
        try:
            ingester.run(arguments.idle_exit)
        finally:
            ingester.close()
    finally:
        lock.release()
    return 0
