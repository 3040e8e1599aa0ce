"""Extraction off the Twisted reactor, across every core.

Parsing and extraction (lxml, trafilatura) are CPU-bound and hold the GIL:
in the crawl's own process they stall downloads and the archive writes.
With ``EXTRACTION_PROCESSES`` > 0 they run in worker processes, the reactor
only awaiting results; with 0 they run in-process (the behaviour on one
core). Output is the same either way: workers run the very same function,
:func:`summarize` (extraction's pure summary of a page, and an article's
search stems).

Each worker is a process with one duplex pipe (a socket pair) to the crawl,
watched by the event loop itself (``add_reader``): no executor threads in the crawl process
contend with the reactor for the GIL, and a finished worker is handed its
next page in the same callback that takes its result.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import itertools
import logging
import multiprocessing
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ..archive.stemming import article_stems
from ..extraction import pages
from ..extraction.pages import PageSummary
from ..profiles import SiteProfile, load_profile

logger = logging.getLogger(__name__)
# Each worker holds its page and up to seven more, waiting in its socket. The crawl's event loop takes a
# worker's result (and sends it a page) only between its own callbacks, which run for milliseconds (a
# response's parse, pipelines, WARC records): holding only one more page, a worker often finished both
# before the loop came back to it, and idled (measured in benchmarks/NOTES.md).
PAGES_PER_WORKER = 8
# The pages a worker holds must fit in its socket's buffer, or sending one would block the event loop until
# the worker read: they are kept under this many bytes (pickled), and the crawl's end of each socket asks
# for a send buffer four times as big (the kernel counts its own bookkeeping against it). A page that does
# not fit waits for a worker that holds none; where the system grants a smaller buffer, the limit shrinks.
QUEUED_BYTES_PER_WORKER = 256 * 1024


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_processes() -> int:
    """One worker per core when there is more than one core; none otherwise."""
    cores = available_cores()
    return cores if cores > 1 else 0


# Workers run at a lower priority than the crawl (niceness +10, relative to the crawl's): when the cores are
# all busy, the kernel's fair share gave the crawl process, which feeds every worker, about three quarters
# of a core, and the workers then waited for it (benchmarks/NOTES.md).
WORKER_NICENESS = 10

# Young objects are collected every 20,000 allocations, not Python's 700: extracting a page
# allocates thousands of short-lived objects, and the default collected them over and over
# (benchmarks/NOTES.md).
COLLECTOR_THRESHOLDS = (20_000, 20, 20)


def settle_collector() -> None:
    """For a long crawl or worker process: what is loaded by now (modules, settings, the archive's
    known URLs) lives as long as the process, so it goes out of the garbage collector's sight: full
    collections neither re-scan it nor write to (and so unshare) pages a fork server shares. And
    young objects are collected less often."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def summarize(url: str, body: str | bytes, profile: SiteProfile | str,
              content_type: str | bytes | None = None) -> PageSummary:
    """What the crawl makes of one page: extraction's summary (:func:`archiver.extraction.pages.summarize`,
    of the page's bytes and its Content-Type header: decoding is extraction's, and done on every core too)
    and, for an article, the stems of its title and text for the archive's search, made here so that they
    are made on every core, not by the crawl process at its end."""
    summary = pages.summarize(url, body, profile, content_type)
    if summary.article.is_article:
        summary.search_stems = article_stems(summary.article.title, summary.article.text)
    return summary


class Call(NamedTuple):
    """Other work for a worker than a crawl's page: ``function(*arguments, profile_key)``, a module-level
    function (pickled by its name), whose result is sent back (the rebuild's: read a page's WARC record, then
    summarize it, so that the rebuild's own process neither reads nor sends the page)."""

    function: Callable
    arguments: tuple


def _work(message, profile_key: str):
    if isinstance(message, Call):
        return message.function(*message.arguments, profile_key)
    url, body, content_type = message
    return summarize(url, body, profile_key, content_type)


def log_decoding(summary: PageSummary) -> None:
    """One line when a page's bytes were not read as declared: a warning when no charset fits them (some
    characters are lost), a debug line when another charset than the declared one does. Logged here, in the
    crawl's process: a worker's log records would reach no log handler."""
    decoding = summary.decoding
    if decoding is None:
        return
    if not decoding.clean:
        logger.warning("Undecodable bytes (%s): %s", decoding.describe(), summary.url)
    else:
        logger.debug("Charset corrected (%s): %s", decoding.describe(), summary.url)


class WorkersGone(Exception):
    """A worker process died: the pages it held, and those still waiting, are extracted in-process."""


def _serve(connection, profile_key: str, crawl_pid: int) -> None:
    """A worker: pages in, summaries out, until the crawl closes its end of the pipe."""
    load_profile(profile_key)
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not allowed here: the worker runs at the crawl's priority
        pass
    settle_collector()  # the libraries preloaded by the fork server stay for the worker's life
    threading.Thread(target=_exit_with, args=(crawl_pid,), name="watch-crawl", daemon=True).start()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply = (True, _work(message, profile_key))
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
        context.set_forkserver_preload(["archiver.extraction.pages", "trafilatura", "snowballstemmer",
                                        "archiver.archive.stemming"])
        return context
    return multiprocessing.get_context("spawn")


class _Worker:
    """One worker process, its end of the pipe, and the pages sent to it with their pickled sizes (oldest first)."""

    def __init__(self, context, profile_key: str, number: int):
        self.connection, child_end = context.Pipe(duplex=True)
        granted = _widen_send_buffer(self.connection.fileno(), 4 * QUEUED_BYTES_PER_WORKER)
        self.queue_limit = min(QUEUED_BYTES_PER_WORKER, granted // 4)
        self.process = context.Process(target=_serve, args=(child_end, profile_key, os.getpid()),
                                       name=f"archiver-extraction-{number}", daemon=True)
        self.process.start()
        child_end.close()
        self.pages: list[tuple[asyncio.Future, int]] = []

    def takes(self, size: int) -> bool:
        """Whether a page of ``size`` pickled bytes can be sent now without blocking the sender."""
        if not self.pages:
            return True  # the worker is waiting for it: it reads the socket as fast as we write
        return len(self.pages) < PAGES_PER_WORKER and sum(held for _, held in self.pages) + size <= self.queue_limit


def _widen_send_buffer(fileno: int, wanted: int) -> int:
    """Ask for a socket send buffer of ``wanted`` bytes; the size granted (Linux reports twice the
    request, capped by the system's limit; 0 if the descriptor is not a socket)."""
    try:
        with socket.socket(fileno=os.dup(fileno)) as sock:
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < wanted:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, wanted // 2)
            return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    except OSError:
        return 0


class PageExtractor:
    """Pages to summarize, handed to the workers the most urgent first.

    A page waits here until a worker has room for it (``PAGES_PER_WORKER``
    pages within ``QUEUED_BYTES_PER_WORKER``), ordered by its request's
    priority (listings first): a listing queues behind at most the pages the
    workers hold (some tens of milliseconds of work), so the crawl keeps
    discovering pages. ``capacity`` is the most pages in the workers at once.
    """

    def __init__(self, profile_key: str, processes: int):
        self.profile_key = profile_key
        self.workers: list[_Worker] = []
        self.capacity = PAGES_PER_WORKER * processes
        self.waiting: list[tuple] = []  # heap: (-priority, arrival, future, pickled message)
        self.arrivals = itertools.count()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.starting: threading.Thread | None = None
        if processes > 0:
            # The fork server imports the extraction libraries before it forks a worker: a few
            # hundred milliseconds, spent on a thread while Scrapy opens the crawl.
            self.starting = threading.Thread(target=self._start, args=(processes,), daemon=True,
                                             name="start-extraction-workers")
            self.starting.start()

    def _start(self, processes: int) -> None:
        started: list[_Worker] = []
        try:
            context = _worker_context()
            for number in range(processes):
                started.append(_Worker(context, self.profile_key, number))
        except Exception:
            logger.exception("The extraction workers did not start; extracting in-process")
            for worker in started:
                worker.connection.close()  # the worker reads the end of its pipe and exits
            return
        self.workers = started
        logger.info("Extraction runs in %d worker processes", processes)

    async def _started(self) -> None:
        starting = self.starting
        while starting is not None and starting.is_alive():
            await asyncio.sleep(0.005)
        self.starting = None

    async def summarize(self, url: str, body: str | bytes, priority: int = 0,
                        content_type: str | bytes | None = None) -> PageSummary:
        """The summary of one page: ``body`` as served (bytes) and its Content-Type header, or its text."""
        summary = await self._summarize(url, body, priority, content_type)
        log_decoding(summary)
        return summary

    async def call(self, function: Callable, *arguments, priority: int = 0) -> Any:
        """``function(*arguments, profile_key)`` in a worker (:class:`Call`), or in this process without one."""
        return await self._submit(Call(function, arguments), priority)

    async def _summarize(self, url: str, body: str | bytes, priority: int,
                         content_type: str | bytes | None) -> PageSummary:
        return await self._submit((url, body, content_type), priority)

    async def _submit(self, message: tuple, priority: int) -> Any:
        if self.starting is not None:
            await self._started()
        if self.workers:
            self._watch(asyncio.get_running_loop())
            page = self.loop.create_future()
            pickled = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)  # once, whoever takes it
            heapq.heappush(self.waiting, (-priority, next(self.arrivals), page, pickled))
            self._hand_out()
            try:
                return await page
            except WorkersGone:
                pass
        return _work(message, self.profile_key)

    def _watch(self, loop) -> None:
        """Results are read by the running event loop, as soon as a worker's pipe is readable."""
        if self.loop is loop:
            return
        self.loop = loop
        for worker in self.workers:
            loop.add_reader(worker.connection.fileno(), self._take_result, worker)

    def _hand_out(self) -> None:
        """Idle workers get a page first, then busy ones their next page."""
        for depth in range(PAGES_PER_WORKER):
            for worker in self.workers:
                if not self.waiting:
                    return
                if len(worker.pages) <= depth:
                    self._send_one(worker)

    def _send_one(self, worker: _Worker) -> None:
        while self.waiting:
            entry = heapq.heappop(self.waiting)
            page, message = entry[2:]
            if page.done():  # its crawl request was cancelled meanwhile
                continue
            if not worker.takes(len(message)):  # it goes when a worker has room
                heapq.heappush(self.waiting, entry)
                return
            try:
                worker.connection.send_bytes(message)
            except (OSError, ValueError):
                heapq.heappush(self.waiting, entry)
                self._break()
                return
            worker.pages.append((page, len(message)))
            return

    def _take_result(self, worker: _Worker) -> None:
        try:
            ok, value = worker.connection.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            self._break()
            return
        page, _ = worker.pages.pop(0)
        self._hand_out()  # the next pages first: workers must not idle while we deliver
        if not page.done():
            if ok:
                page.set_result(value)
            else:
                page.set_exception(value)

    def _break(self) -> None:
        """A worker died: stop them all and let every pending page be extracted in-process."""
        logger.error("An extraction worker died; extracting in-process from now on")
        self._stop(WorkersGone)

    def close(self) -> None:
        """Stop the workers; a page still waiting for one is cancelled (the crawl is over)."""
        self._stop(None)

    def _stop(self, fallback: type[Exception] | None) -> None:
        if self.starting is not None:
            self.starting.join()
            self.starting = None
        workers, self.workers = self.workers, []
        pending = [page for worker in workers for page, _ in worker.pages] + [entry[2] for entry in self.waiting]
        self.waiting = []
        for worker in workers:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.remove_reader(worker.connection.fileno())
            worker.connection.close()  # the worker reads the end of its pipe and exits
        for worker in workers:
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                worker.process.kill()
        for page in pending:
            if not page.done():
                if fallback is None:
                    page.cancel()
                else:
                    page.set_exception(fallback())
