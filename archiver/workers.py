"""Extraction off the Twisted reactor, across every core.

Parsing and extraction (lxml, trafilatura) are CPU-bound and hold the GIL:
in the crawl's own process they stall downloads and the archive writes.
With ``EXTRACTION_PROCESSES`` > 0 they run in a pool of worker processes,
the reactor only awaiting results; with 0 they run in-process (the
behaviour on one core). Output is the same either way: workers run the very
same pure function, :func:`archiver.pages.summarize`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .pages import PageSummary, summarize
from .profiles import load_profile

logger = logging.getLogger(__name__)


def default_processes() -> int:
    """One worker per core when there is more than one core; none otherwise."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0


def _warm_up(profile_key: str, crawl_pid: int) -> None:
    """Load the profile (and the extraction libraries) once per worker, and watch the crawl."""
    load_profile(profile_key)
    threading.Thread(target=_exit_with, args=(crawl_pid,), name="watch-crawl", daemon=True).start()


def _exit_with(crawl_pid: int, every: float = 1.0) -> None:
    """End this worker once the crawl process is gone.

    A crawl killed with SIGKILL cannot shut its pool down, and a worker waiting
    for its next page would wait forever (it holds both ends of the pool's
    queue): cron would pile up orphans, run after killed run.
    """
    while _alive(crawl_pid):
        time.sleep(every)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or the PID is now another user's)
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead too
    except (OSError, IndexError):
        return True  # no /proc: trust the signal check


def _ready() -> None:
    """Nothing: a first task, so that the pool starts its workers."""


def _worker_context():
    """Workers start clean, without a copy of the reactor's threads and sockets: forked from a
    fork server that imported the extraction libraries once ("spawn" where there is none)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["archiver.pages"])
        return context
    return multiprocessing.get_context("spawn")


class PageExtractor:
    """Pages to summarize, handed to the worker pool a few at a time, the most urgent first.

    The pool's own queue is first in, first out: a listing page queued behind
    dozens of articles would wait for all of them, and the crawl discovers
    nothing new meanwhile. So at most ``2 × processes`` pages are in the pool;
    the others wait here, ordered by their request's priority (listings first).
    """

    def __init__(self, profile_key: str, processes: int):
        self.profile_key = profile_key
        self.pool = None
        self.capacity = 2 * processes
        self.busy = 0
        self.waiting: list[tuple[int, int, asyncio.Future]] = []  # heap: (-priority, arrival, future)
        self.arrivals = itertools.count()
        if processes > 0:
            self.pool = ProcessPoolExecutor(processes, mp_context=_worker_context(),
                                            initializer=_warm_up, initargs=(profile_key, os.getpid()))
            # Workers start on demand: start them now, while the crawl is still opening, rather
            # than when the first page waits for one.
            for _ in range(processes):
                self.pool.submit(_ready)
            logger.info("Extraction runs in %d worker processes", processes)

    async def summarize(self, url: str, html: str, priority: int = 0) -> PageSummary:
        if self.pool is not None:
            await self._slot(priority)
            try:
                pool = self.pool  # the pool may have broken while this page waited for its turn
                if pool is not None:
                    return await asyncio.get_running_loop().run_in_executor(
                        pool, summarize, url, html, self.profile_key)
            except BrokenProcessPool:
                if self.pool is not None:
                    logger.error("The extraction worker pool broke; extracting in-process from now on")
                    self.pool = None
            finally:
                self._release()
        return summarize(url, html, self.profile_key)

    async def _slot(self, priority: int) -> None:
        if self.busy < self.capacity:
            self.busy += 1
            return
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(self.waiting, (-priority, next(self.arrivals), turn))
        try:
            await turn  # the slot is handed over by _release, still counted as busy
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a slot just as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        while self.waiting:
            _, _, turn = heapq.heappop(self.waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self.busy -= 1

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
