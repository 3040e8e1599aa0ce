"""Bounded link spaces end to end: real crawls of a loopback server (tests/hostile.py) whose pages link without
end (docs/crawling.md, "Bounded link spaces")."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import psutil
from conftest import CRAWL_SETTINGS
from hostile import HostileServer

from archiver.cli import crawl_command, project_root

TEXT = ("Министры иностранных дел государств – членов ОДКБ обсудили ситуацию в зоне ответственности Организации и "
        "подписали заявление о сотрудничестве в области коллективной безопасности. Следующее заседание Совета "
        "пройдёт в Минске; в нём примут участие генеральный секретарь и постоянные представители.")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def article(title: str, links: str = "", date: str | None = "03.07.2020") -> str:
    dated = f'<span class="news-date-time">{date}</span>' if date else ""
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><div class=\"news-detail\">"
            f"<h1>{title}</h1>{dated}<p>{TEXT}</p></div>{links}</body></html>")


def listing(entries: dict[str, str]) -> str:
    items = "".join(f'<div class="news-item"><div class="news-date-time">03.07.2020</div>'
                    f'<a href="{path}">{title}</a></div>' for path, title in entries.items())
    return f'<html><head><title>Новости</title></head><body><div class="news-list">{items}</div></body></html>'


def headline(name: str) -> str:
    return f"Заседание Совета министров, выпуск {name}"


def endless(server: HostileServer, prefix: str, answer) -> None:
    """Every path under ``prefix`` answered by ``answer(path)`` (HostileServer routes exact paths)."""
    class Routes(dict):
        def get(self, path, default=None):
            if path.startswith(prefix):
                return lambda request: (200, HTML, answer(request.path).encode("utf-8"))
            return super().get(path, default)

    server.routes = Routes(server.routes)


class Crawl:
    """A real ``scrapy crawl news`` in the background, its log in a file (a pipe would fill and stall it), its
    memory watched; killed when it requests more than ``max_requests`` pages (the bound failed)."""

    def __init__(self, server: HostileServer, tmp_path: Path, seed: str, *settings: str):
        self.server, self.db_path, self.log_path = server, tmp_path / "archive.db", tmp_path / "crawl.log"
        command = crawl_command([server.url(seed)], self.db_path, CRAWL_SETTINGS + list(settings))
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, cwd=project_root(), stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.peak_rss = 0
        self.started = time.monotonic()

    def watch(self, until=lambda: False, max_requests: int = 10_000, timeout: float = 120) -> bool:
        """Wait for the crawl to end (True) or ``until()`` (False); past ``max_requests`` or ``timeout``, kill it."""
        process = psutil.Process(self.process.pid)
        while self.process.poll() is None:
            try:
                self.peak_rss = max(self.peak_rss, process.memory_info().rss)
            except psutil.Error:
                pass
            if until():
                return False
            if len(self.server.hits) > max_requests or time.monotonic() - self.started > timeout:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"unbounded: {len(self.server.hits)} requests in "
                                     f"{time.monotonic() - self.started:.0f}s\n{self.log[-3000:]}")
            time.sleep(0.05)
        return True

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stat(self, name: str) -> int | None:
        found = re.search(rf"'{re.escape(name)}': (\d+)", self.log)
        return int(found.group(1)) if found else None

    def requested(self, prefix: str) -> list[str]:
        return [path for path in self.server.paths() if path.startswith(prefix)]

    def rows(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql).fetchall()


def test_an_endless_tree_of_undated_articles_ends_after_a_few_levels(tmp_path):
    """Article-like pages without a date that each link two new ones (the only bound was DEPTH_LIMIT, 50 levels:
    2^50 pages): three levels below the first (UNDATED_CHAIN_LIMIT), their new article links are left."""
    def page(path: str) -> str:
        name = path.strip("/").rsplit("/", 1)[-1]
        links = "".join(f'<p><a href="/news/tree/{name}{child}/">{headline(name + child)}</a></p>' for child in "ab")
        return article(headline(name), links, date=None)

    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({"/news/tree/r/": headline("r")}))
        endless(server, "/news/tree/", page)
        crawl = Crawl(server, tmp_path, "/news/news_odkb/")
        crawl.watch(max_requests=200)
    log = crawl.log
    assert crawl.process.returncode == 0, log[-3000:]
    assert len(crawl.requested("/news/tree/")) == 1 + 2 + 4 + 8, crawl.requested("/news/tree/")
    assert log.count("Link trap: 4 article-like pages without a date in a row lead to ") == 1, log[-3000:]
    assert crawl.stat("archiver/links/undated_chain") == 16
    # What was fetched is archived as any undated article is (flagged date_missing).
    assert crawl.rows("select count(*), sum(date_missing) from articles") == [(15, 15)]


def test_a_tree_of_pages_that_are_not_articles_ends_too(tmp_path):
    """The same tree of pages with no body (not articles: no barren listing stops them, as each brings two new
    headline links): it ends as the undated articles' tree does."""
    def page(path: str) -> str:
        name = path.strip("/").rsplit("/", 1)[-1]
        links = "".join(f'<p><a href="/news/tree/{name}{child}/">{headline(name + child)}</a></p>' for child in "ab")
        return f"<html><head><title>{name}</title></head><body><h1>{headline(name)}</h1>{links}</body></html>"

    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({"/news/tree/r/": headline("r")}))
        endless(server, "/news/tree/", page)
        crawl = Crawl(server, tmp_path, "/news/news_odkb/")
        crawl.watch(max_requests=200)
    assert crawl.process.returncode == 0, crawl.log[-3000:]
    assert len(crawl.requested("/news/tree/")) == 15, crawl.requested("/news/tree/")
    assert crawl.stat("archiver/links/undated_chain") == 16


def test_articles_linking_on_through_undated_ones_are_all_archived(tmp_path):
    """Real articles are dated: a chain of articles, some undated, each linking only the next ("Other news"), is
    followed to its end; three undated ones in a row still lead on."""
    dated = [True, False, True, False, False, False, True, True]
    paths = [f"/news/news_odkb/item-{number}/" for number in range(len(dated))]
    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({paths[0]: headline("0")}))
        for number, (path, has_date) in enumerate(zip(paths, dated)):
            after = f'<div class="other-news"><a href="{paths[number + 1]}">{headline(str(number + 1))}</a></div>' \
                if number + 1 < len(paths) else ""
            server.page(path, article(headline(str(number)), after, date="03.07.2020" if has_date else None))
        crawl = Crawl(server, tmp_path, "/news/news_odkb/")
        crawl.watch(max_requests=50)
    assert crawl.process.returncode == 0, crawl.log[-3000:]
    stored = {url for (url,) in crawl.rows("select url from articles")}
    assert stored == {server.url(path) for path in paths}
    assert "Link trap" not in crawl.log


def test_a_tree_of_dated_articles_is_bounded_at_each_depth(tmp_path):
    """Dated pages that each link two new ones: at most MAX_NEW_URLS_PER_DEPTH new URLs at each link depth."""
    def page(path: str) -> str:
        name = path.strip("/").rsplit("/", 1)[-1]
        links = "".join(f'<p><a href="/news/tree/{name}{child}/">{headline(name + child)}</a></p>' for child in "ab")
        return article(headline(name), links)

    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({"/news/tree/r/": headline("r")}))
        endless(server, "/news/tree/", page)
        crawl = Crawl(server, tmp_path, "/news/news_odkb/", "MAX_NEW_URLS_PER_DEPTH=8", "DEPTH_LIMIT=10")
        crawl.watch(max_requests=300)
    log = crawl.log
    assert crawl.process.returncode == 0, log[-3000:]
    # Depths 1 to 4 hold 1, 2, 4 and 8 pages; depths 5 to 10, eight each.
    assert len(crawl.requested("/news/tree/")) == 1 + 2 + 4 + 8 + 8 * 6
    for depth in range(5, 11):
        assert log.count(f"8 new URLs scheduled at link depth {depth}: no more at that depth this run") == 1
    assert crawl.stat("archiver/links/depth_capped") == 8 * 6


def test_a_page_with_100000_links_has_its_first_1000_new_ones_followed(tmp_path):
    """One article linking 100,000 in-scope pages (it kept the crawl's process busy for a minute scheduling them
    all, at 400 MB): its first MAX_LINKS_PER_PAGE (1,000) new links are followed, the rest not even looked at."""
    links = "".join(f'<a href="/news/links/a{number}/">{number}</a>' for number in range(100_000))
    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({"/news/news_odkb/big/": headline("big")}))
        server.page("/news/news_odkb/big/", article(headline("big"), f"<div>{links}</div>"))
        crawl = Crawl(server, tmp_path, "/news/news_odkb/")
        crawl.watch(max_requests=1_100, timeout=150)
    log = crawl.log
    assert crawl.process.returncode == 0, log[-3000:]
    assert crawl.requested("/news/links/") and len(crawl.requested("/news/links/")) == 1000
    assert log.count("Too many links on ") == 1, log[-3000:]
    assert (f"Too many links on {server.url('/news/news_odkb/big/')}: 1000 new ones taken from its first 1000, "
            "the other 99000 not looked at") in log
    assert crawl.stat("archiver/links/capped") == 99_000
    assert crawl.rows("select url from articles") == [(server.url("/news/news_odkb/big/"),)]
    assert crawl.peak_rss < 300_000_000, crawl.peak_rss


def test_sigterm_among_huge_link_pages_stops_the_crawl_within_seconds(tmp_path):
    """Every page links 20,000 more such pages. SIGTERM once a few are being read: the run ends within seconds
    (pages still waiting for extraction are left to the next run), recorded as interrupted."""
    def page(path: str) -> str:
        name = path.strip("/").rsplit("/", 1)[-1]
        links = "".join(f'<a href="/news/huge/{name}-{number}/">{number}</a>' for number in range(20_000))
        return article(headline(name), f"<div>{links}</div>")

    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({"/news/huge/r/": headline("r")}))
        endless(server, "/news/huge/", page)
        crawl = Crawl(server, tmp_path, "/news/news_odkb/")
        assert not crawl.watch(until=lambda: len(crawl.requested("/news/huge/")) >= 6, timeout=90), crawl.log[-3000:]
        time.sleep(1)  # the pages' extraction under way
        crawl.process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        try:
            crawl.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            crawl.process.kill()
            crawl.process.wait()
        stopped_in = time.monotonic() - stopping
    assert stopped_in < 5, f"{stopped_in:.1f}s after SIGTERM\n{crawl.log[-3000:]}"
    assert crawl.process.returncode == 0, crawl.log[-3000:]
    assert crawl.rows("select status, finish_reason from crawl_runs") == [("interrupted", "shutdown")]
