"""Extraction off the Twisted reactor, across every core.

Parsing and extraction (lxml, trafilatura) are CPU-bound and hold the GIL:
in the crawl's own process they stall downloads and the archive writes.
With ``EXTRACTION_PROCESSES`` > 0 they run in worker processes, the reactor
only awaiting results; with 0 they run in-process (the behaviour on one
core). Output is the same either way: workers run the very same pure
function, :func:`archiver.pages.summarize`.

Each worker is a process with one pipe to the crawl, watched by the event
loop itself (``add_reader``): no executor threads in the crawl process
contend with the reactor for the GIL, and a finished worker is handed its
next page in the same callback that takes its result.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import multiprocessing
import os
import pickle
import threading
import time

from .pages import PageSummary, summarize
from .profiles import load_profile

logger = logging.getLogger(__name__)


def default_processes() -> int:
    """One worker per core when there is more than one core; none otherwise."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0


class WorkersGone(Exception):
    """A worker process died: the pages it held, and those still waiting, are extracted in-process."""


def _serve(connection, profile_key: str, crawl_pid: int) -> None:
    """A worker: pages in, summaries out, until the crawl closes its end of the pipe."""
    load_profile(profile_key)
    threading.Thread(target=_exit_with, args=(crawl_pid,), name="watch-crawl", daemon=True).start()
    while True:
        try:
            url, html = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply = (True, summarize(url, html, profile_key))
        except Exception as error:  # a bug met on one page fails that page, not the worker
            reply = (False, error)
        try:
            connection.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError):
            connection.send((False, RuntimeError(f"extraction failed: {reply[1]!r}")))
        except (BrokenPipeError, OSError):
            return


def _exit_with(crawl_pid: int, every: float = 1.0) -> None:
    """End this worker once the crawl process is gone.

    A crawl killed with SIGKILL closes its pipes, but a worker busy with a
    huge page would only notice when done: it checks every second as well.
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


def _worker_context():
    """Workers start clean, without a copy of the reactor's threads and sockets: forked from a
    fork server that imported the extraction libraries once ("spawn" where there is none)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["archiver.pages"])
        return context
    return multiprocessing.get_context("spawn")


class _Worker:
    """One worker process, its end of the pipe, and the page it is on."""

    def __init__(self, context, profile_key: str, number: int):
        self.connection, child_end = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child_end, profile_key, os.getpid()),
                                       name=f"archiver-extraction-{number}", daemon=True)
        self.process.start()
        child_end.close()
        self.page: asyncio.Future | None = None


class PageExtractor:
    """Pages to summarize, handed to the workers one at a time, the most urgent first.

    A page waits here until a worker is free, ordered by its request's
    priority (listings first): a listing never queues behind articles
    already sent, so the crawl keeps discovering pages. ``capacity`` is the
    number of pages in the workers at once.
    """

    def __init__(self, profile_key: str, processes: int):
        self.profile_key = profile_key
        self.workers: list[_Worker] = []
        self.capacity = processes
        self.waiting: list[tuple] = []  # heap: (-priority, arrival, future, url, html)
        self.arrivals = itertools.count()
        self.loop: asyncio.AbstractEventLoop | None = None
        if processes > 0:
            context = _worker_context()
            self.workers = [_Worker(context, profile_key, number) for number in range(processes)]
            logger.info("Extraction runs in %d worker processes", processes)

    async def summarize(self, url: str, html: str, priority: int = 0) -> PageSummary:
        if self.workers:
            self._watch(asyncio.get_running_loop())
            page = self.loop.create_future()
            heapq.heappush(self.waiting, (-priority, next(self.arrivals), page, url, html))
            self._hand_out()
            try:
                return await page
            except WorkersGone:
                pass
        return summarize(url, html, self.profile_key)

    def _watch(self, loop) -> None:
        """Results are read by the running event loop, as soon as a worker's pipe is readable."""
        if self.loop is loop:
            return
        self.loop = loop
        for worker in self.workers:
            loop.add_reader(worker.connection.fileno(), self._take_result, worker)

    def _hand_out(self) -> None:
        for worker in self.workers:
            if not self.waiting:
                return
            if worker.page is None:
                self._send(worker)

    def _send(self, worker: _Worker) -> None:
        while self.waiting:
            _, _, page, url, html = heapq.heappop(self.waiting)
            if page.done():  # its crawl request was cancelled meanwhile
                continue
            try:
                worker.connection.send((url, html))
            except (OSError, ValueError):
                heapq.heappush(self.waiting, (0, -1, page, url, html))
                self._break()
                return
            worker.page = page
            return

    def _take_result(self, worker: _Worker) -> None:
        try:
            ok, value = worker.connection.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            self._break()
            return
        page, worker.page = worker.page, None
        self._send(worker)  # the worker's next page first: it must not idle while we deliver
        if page is not None and not page.done():
            if ok:
                page.set_result(value)
            else:
                page.set_exception(value)

    def _break(self) -> None:
        """A worker died: stop them all and let every pending page be extracted in-process."""
        logger.error("An extraction worker died; extracting in-process from now on")
        pending = [worker.page for worker in self.workers] + [entry[2] for entry in self.waiting]
        self.close()
        for page in pending:
            if page is not None and not page.done():
                page.set_exception(WorkersGone())

    def close(self) -> None:
        workers, self.workers, self.waiting = self.workers, [], []
        for worker in workers:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.remove_reader(worker.connection.fileno())
            worker.connection.close()  # the worker reads the end of its pipe and exits
        for worker in workers:
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                worker.process.kill()
