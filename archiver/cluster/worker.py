"""A cluster worker's run: its crawl state, its outbox to the writer, its exit code and its counts.

:class:`WorkerRun` takes the place of the single process's run (:class:`archiver.crawl.runs.ArchiveRun`,
which it extends so that every component finds it where it finds a run) on a worker, which has no archive:
its ``state`` is a :class:`~archiver.cluster.state.WorkerState` (read from what the writer published, written
through the stream), its capture is the worker's (:mod:`archiver.cluster.capture`). What the worker learnt
goes to the writer in order: the rows of its WARC records and its crawl-state calls are sent
(:meth:`WorkerRun.send`) before any item that follows them and before the requests they came from are
acknowledged. A write that fails (a full disk) stops the worker, which exits 74.
"""

from __future__ import annotations

import json
import logging

from scrapy import signals

from ..crawl.runs import EXIT_IOERR, EXIT_OK, FINISHED_RUNS, WRITE_ERROR, ArchiveRun

logger = logging.getLogger(__name__)


def stream_key(crawler) -> str:
    return crawler.settings.get("CLUSTER_ITEMS_STREAM") % {"spider": crawler.spidercls.name}


class WorkerRun(ArchiveRun):
    """The run of a cluster worker (``EXTENSIONS``, in place of ArchiveRun): see the module's docstring."""

    def __init__(self, crawler):  # none of ArchiveRun's: no archive, no lock, no crawl_runs row
        from scrapy_redis.connection import get_redis_from_settings

        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)
        self.archive = self.state = self.run_log = self.run_id = self.interrupted_run = None
        self.locked_by = self.mode = self.write_failure = self.capture = None
        self.dead_runs = []
        self.exit_code = EXIT_OK
        self.closing = self.left = False

    @classmethod
    def from_crawler(cls, crawler):
        from .state import WorkerState

        run = cls(crawler)
        run.state = WorkerState(run.server, stream_key(crawler))  # what earlier rounds left, read now
        crawler.signals.connect(run.spider_closed, signal=signals.spider_closed)
        return run

    # -- the outbox ------------------------------------------------------------

    def pending(self) -> bool:
        capture = self.capture
        return bool(self.state is not None and self.state.pending) or bool(
            capture is not None and capture.index is not None and capture.index.pending)

    def send(self) -> None:
        """The rows of the records written so far (once on disk) and the crawl-state calls, into the stream."""
        if self.capture is not None:
            self.capture.make_durable()
        calls = self.state.take() if self.state is not None else []
        if calls:
            self.server.xadd(stream_key(self.crawler), {"state": json.dumps(calls, ensure_ascii=False)})

    # -- failures and the end ------------------------------------------------------

    def write_failed(self, error: Exception, path=None) -> None:
        if self.write_failure is not None:
            return
        path = path or getattr(error, "filename", None) or "?"
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        self.write_failure = f"cannot write {path}: {reason}"
        self.exit_code = EXIT_IOERR
        logger.error("Cannot write %s: %s; this worker stops (its unfinished requests go to the others)",
                     path, reason)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            from scrapy.utils.defer import deferred_from_coro

            from ..crawl.runs import _close_engine

            deferred_from_coro(_close_engine(engine))

    def failure_line(self) -> str | None:
        """Told on stderr at the end (archiver.commands.crawl): the write failure is logged already."""
        return None

    def leave(self, reason: str) -> None:
        """The worker's last words, before it leaves the cluster (the scheduler calls it before dropping its
        heartbeat, so that the writer never finishes the round without them): its WARC files closed and their
        last rows sent, its last crawl-state calls, its counts added to the round."""
        if self.left:
            return
        self.left = True
        from .rounds import ROUND_KEY, add_worker_counts

        if self.capture is not None:
            self.capture.finish()
        try:
            if self.write_failure is None:
                self.send()
            add_worker_counts(self.server, ROUND_KEY % {"spider": self.crawler.spidercls.name},
                              self.crawler.stats.get_stats(), self.mode)
        except Exception:  # noqa: BLE001 - the worker's work is done; its unsent calls are marks only
            logger.exception("Could not send this worker's last crawl state and counts to the round")

    def spider_closed(self, spider, reason):
        if reason == WRITE_ERROR:
            self.exit_code = EXIT_IOERR
        FINISHED_RUNS.append(self)  # the worker's exit code (archiver.commands.crawl)
        self.leave(reason)


def worker_run(crawler) -> WorkerRun | None:
    """The worker's run (an extension: built before every middleware and pipeline)."""
    return crawler.get_extension(WorkerRun)
