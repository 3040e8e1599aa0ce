"""The cost of extraction alone, per page: this project's page object against trafilatura, on the same pages.

    python benchmarks/extraction.py                       # 200 articles a language, classic replica
    python benchmarks/extraction.py --flavour variant --profile

Serves a replica in-process, fetches its listings and articles once, then times, over the same pages and
in this one process (no Scrapy, no storage): ``archiver.crawl.workers.summarize`` (what a worker does per page:
parse, article, links, teasers, documents, an article's search stems) and ``trafilatura.extract`` alone
(bench.py's extraction bound).
Each is timed ``--repeat`` times: the first pass is what a crawl sees (each page once, the caches of
canonical URLs and dates cold), and the fastest pass is reported too. ``--profile`` adds cProfile's top
functions for ``summarize``. Timings on a shared machine vary; for a count that does not, run one pass
under ``valgrind --tool=callgrind`` and compare instructions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import urllib.request

from archiver.crawl.workers import summarize
from archiver.extraction.extract import decode_html
from archiver.profiles import load_profile
from archiver.replica import ReplicaSite, serve_replica

SECTIONS = ("news_odkb", "news_secretariat", "parliamentary_assembly", "military_cooperation")


def replica_pages(articles_per_language: int, flavour: str) -> list[tuple[str, str]]:
    """(url, text) of the replica's article pages and of the first listing pages of each section, decoded
    once here: decoding (which the crawl's workers do from the response's bytes) is timed for neither."""
    site = ReplicaSite(articles_per_language, seed=1, flavour=flavour)
    with serve_replica(site, port=0, slow_seconds=0, huge_page_bytes=200_000) as server:
        urls = [record["url"] for record in site.ground_truth(server.base_urls)]
        for base in server.base_urls.values():
            urls += [f"{base}/news/"] + [f"{base}/news/{section}/?PAGEN_1={n}" for section in SECTIONS
                                         for n in (1, 2, 3)]
        pages = []
        for url in urls:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:  # charset as the crawl reads it
                    pages.append((url, decode_html(response.read(), response.headers.get("Content-Type"))))
            except OSError:  # the replica's broken pages answer errors: not pages to extract
                continue
    return pages


def timed_passes(function, pages, repeat: int) -> list[float]:
    """Seconds of each pass of ``function(url, text)`` over all pages, after one call to warm it up (lazy
    imports and set-up are not timed)."""
    function(*pages[-1])
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        for url, text in pages:
            function(url, text)
        passes.append(time.perf_counter() - started)
    return passes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200, help="articles per language (default: 200)")
    parser.add_argument("--flavour", choices=("classic", "variant"), default="classic")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions")
    arguments = parser.parse_args()
    import trafilatura

    pages = replica_pages(arguments.articles, arguments.flavour)
    profile = load_profile("csto")
    ours = timed_passes(lambda url, text: summarize(url, text, profile), pages, arguments.repeat)
    alone = timed_passes(lambda url, text: trafilatura.extract(text), pages, arguments.repeat)
    per_page = len(pages) / 1000
    print(f"{len(pages)} pages ({arguments.flavour} replica), ms/page: first pass, fastest of {arguments.repeat}")
    print(f"summarize (this project):  {ours[0] / per_page:.2f}, {min(ours) / per_page:.2f}")
    print(f"trafilatura.extract alone: {alone[0] / per_page:.2f}, {min(alone) / per_page:.2f}")
    print(f"ratio: {ours[0] / alone[0]:.2f}, {min(ours) / min(alone):.2f}")
    if arguments.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [summarize(url, text, profile) for url, text in pages])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
