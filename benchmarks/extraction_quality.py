"""Extraction quality on public development sets: ``extract_article`` against bare trafilatura, same run.

    python benchmarks/extraction_quality.py --readability DIR --trafilatura DIR --htmldate DIR

Each option names a directory already on disk (this script fetches nothing); give any of them:

- ``--readability``: Mozilla Readability's ``test/test-pages`` (a folder per page: ``source.html``,
  ``expected.html``, ``expected-metadata.json``): body, title and (where given) date.
- ``--trafilatura``: trafilatura's ``tests`` folder (``evaldata.json``, pages in ``cache/`` and ``eval/``):
  body (its ``with``/``without`` snippets), title and date where annotated.
- ``--htmldate``: htmldate's ``tests`` folder (``eval_default.json`` and ``eval_mediacloud_2020.json``, pages in
  ``cache/``, ``eval/`` and ``test_set/``): dates only.
- ``--scrapinghub``: scrapinghub's article-extraction-benchmark (``ground-truth.json``, pages in
  ``html/*.html.gz``): body only (its ``articleBody``). Never used to tune a rule: a set the rules have not seen.
- ``--dragnet``: Dragnet's data (``HTML/X.html``, ``Corrected/X.html.corrected.txt``, ``test.txt``): body only,
  the pages of its test split; the expected text is the corrected file up to its comments' separator. Never
  used to tune a rule either.

Every page is read as bytes and given, in turn, to:

- ``archiver``: ``archiver.extraction.extract.extract_article(html, url)`` (no profile: the generic one);
- ``trafilatura+meta``: ``trafilatura.extract(html, url=url, include_images=True, with_metadata=True,
  output_format="json")``, the call that yields what the archive stores (text, images, title, date);
- ``trafilatura``: ``trafilatura.extract(html, url=url)`` with its defaults (text only: body F1 and time).

Metrics (a page counts for a metric only where its set gives the expected value):

- body F1, Readability, scrapinghub and Dragnet sets: the texts are cut into words (``\\w+`` runs,
  case-folded) and into shingles of 4 consecutive words, counted as multisets; precision = shared shingles /
  the output's shingles, recall = shared shingles / the expected text's shingles (``expected.html``'s text),
  F1 their harmonic mean, per page;
  the set's F1 is the mean over its pages (an empty output scores 0). (scrapinghub's own script sums
  normalised counts over pages and keeps case: its figures are close to these, not equal.)
- body F1, trafilatura set: its annotations are snippets that must (``with``) or must not (``without``) appear
  in the text; whitespace is collapsed in both. Over the whole set, true positives are ``with`` snippets
  found, false negatives ``with`` snippets missing, false positives ``without`` snippets found; precision,
  recall and F1 from those totals.
- title exact: the title equals the expected one once whitespace is collapsed (Unicode NFC).
- date exact: the day (``YYYY-MM-DD``, the first ten characters of the ISO date) equals the expected day; no
  date counts as a miss.
- time: wall time of each call (decoding and parsing included), median per page and total, in one process,
  after one warm-up call each; on a shared machine timings vary from run to run.

The table is printed per set, and a JSON summary written to ``benchmarks/results/`` (``--output`` to choose
the path); ``--details PATH`` also writes one record per page (expected and extracted values), for reading
failures. ``--limit N`` scores the first N pages of each set; ``--no-baseline`` runs ``archiver`` alone;
``--configurations`` also scores trafilatura's other configurations (``trafilatura.extract`` with
``include_comments=False``, alone and with ``favor_precision`` or ``favor_recall``): its best body F1 on a set
is the best of these and its defaults.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import lxml.html

from archiver.extraction.extract import extract_article

RESULTS = Path(__file__).resolve().parent / "results"
SHINGLE = 4
EXTRACTORS = ("archiver", "trafilatura+meta", "trafilatura")


# -- the sets ----------------------------------------------------------------

@dataclass
class Page:
    """One page of a set and what its set expects (``None``: not annotated)."""

    name: str
    url: str
    path: Path
    text: str | None = None  # the whole expected text (shingle F1)
    with_snippets: list[str] | None = None  # snippets that must / must not be in the text (snippet F1)
    without_snippets: list[str] | None = None
    title: str | None = None
    date: str | None = None


def readability_pages(folder: Path) -> list[Page]:
    pages = []
    for case in sorted(path for path in folder.iterdir() if (path / "source.html").exists()):
        metadata = _json(case / "expected-metadata.json") or {}
        expected = case / "expected.html"
        text = html_text(expected.read_bytes()) if expected.exists() else None
        # The pages were saved from their sites; the set gives no URL, so each gets one of its own.
        pages.append(Page(case.name, f"https://{case.name}.example/article", case / "source.html", text=text,
                          title=metadata.get("title") or None, date=_day(metadata.get("publishedTime"))))
    return pages


def trafilatura_pages(folder: Path) -> list[Page]:
    pages = []
    for url, entry in (_json(folder / "evaldata.json") or {}).items():
        path = _find(folder, entry["file"], ("cache", "eval"))
        if path is not None:
            pages.append(Page(entry["file"], url, path, with_snippets=entry.get("with") or [],
                              without_snippets=entry.get("without") or [], title=entry.get("title") or None,
                              date=_day(entry.get("date"))))
    return pages


def htmldate_pages(folder: Path) -> list[Page]:
    pages = []
    for annotations in ("eval_default.json", "eval_mediacloud_2020.json"):
        for url, entry in (_json(folder / annotations) or {}).items():
            path = _find(folder, entry["file"], ("cache", "eval", "test_set"))
            day = _day(entry.get("date"))  # a few give none (NaN): nothing to score on them
            if path is not None and day:
                pages.append(Page(entry["file"], url, path, date=day))
    return pages


def scrapinghub_pages(folder: Path) -> list[Page]:
    pages = []
    for name, entry in sorted((_json(folder / "ground-truth.json") or {}).items()):
        path = folder / "html" / f"{name}.html.gz"
        if path.exists():
            pages.append(Page(name, entry["url"], path, text=entry.get("articleBody") or ""))
    return pages


DRAGNET_COMMENTS = "!@#$%^&*()  COMMENTS"


def dragnet_pages(folder: Path) -> list[Page]:
    pages = []
    for name in (folder / "test.txt").read_text(encoding="utf-8").split():
        path, corrected = folder / "HTML" / f"{name}.html", folder / "Corrected" / f"{name}.html.corrected.txt"
        if path.exists() and corrected.exists():
            text = corrected.read_text(encoding="utf-8", errors="replace").split(DRAGNET_COMMENTS)[0]
            # The set gives no URL, so each page gets one of its own.
            pages.append(Page(name, f"https://dragnet-{name.lower()}.example/article", path, text=text))
    return pages


SETS = {"readability": readability_pages, "trafilatura": trafilatura_pages, "htmldate": htmldate_pages,
        "scrapinghub": scrapinghub_pages, "dragnet": dragnet_pages}


def read_page(path: Path) -> bytes:
    body = path.read_bytes()
    return gzip.decompress(body) if path.suffix == ".gz" else body


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _find(folder: Path, name: str, subfolders) -> Path | None:
    for subfolder in subfolders:
        path = folder / subfolder / name
        if path.exists():
            return path
    return None


def _day(value) -> str | None:
    value = value.strip() if isinstance(value, str) else ""
    return value[:10] if re.match(r"\d{4}-\d{2}-\d{2}", value) else None


def html_text(body: bytes) -> str:
    """The text of an expected-content HTML file, elements separated by spaces."""
    try:
        root = lxml.html.document_fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for node in root.iter("script", "style"):
        node.text = ""
    return " ".join(root.itertext())


# -- the extractors ------------------------------------------------------------

@dataclass
class Output:
    text: str = ""
    title: str | None = None
    date: str | None = None
    seconds: float = 0.0


def run_archiver(body: bytes, url: str) -> Output:
    started = time.perf_counter()
    article = extract_article(body, url)
    seconds = time.perf_counter() - started
    return Output(article.text or "", article.title, _day(article.published), seconds)


def run_trafilatura_meta(body: bytes, url: str) -> Output:
    import trafilatura

    started = time.perf_counter()
    result = trafilatura.extract(body, url=url, include_images=True, with_metadata=True, output_format="json")
    seconds = time.perf_counter() - started
    document = json.loads(result) if result else {}
    return Output(document.get("text") or "", document.get("title"), _day(document.get("date")), seconds)


def run_trafilatura(body: bytes, url: str, **options) -> Output:
    import trafilatura

    started = time.perf_counter()
    result = trafilatura.extract(body, url=url, **options)
    return Output(result or "", seconds=time.perf_counter() - started)


RUNNERS = {"archiver": run_archiver, "trafilatura+meta": run_trafilatura_meta, "trafilatura": run_trafilatura}
# trafilatura's other configurations, for its best body F1 on a set (--configurations): comments left out (the
# sets' expected texts have none), and its precision and recall modes.
CONFIGURATIONS = {
    "trafilatura no comments": {"include_comments": False},
    "trafilatura no comments, precision": {"include_comments": False, "favor_precision": True},
    "trafilatura no comments, recall": {"include_comments": False, "favor_recall": True},
}
for _name, _options in CONFIGURATIONS.items():
    RUNNERS[_name] = functools.partial(run_trafilatura, **_options)
TEXT_ONLY = {"trafilatura", *CONFIGURATIONS}  # no title or date to score


# -- the metrics ----------------------------------------------------------------

def shingles(text: str) -> Counter:
    words = re.findall(r"\w+", (text or "").casefold())
    return Counter(tuple(words[i:i + SHINGLE]) for i in range(max(0, len(words) - SHINGLE + 1)))


def shingle_f1(output: str, expected: str) -> float | None:
    """F1 of the output's 4-word shingles against the expected text's; ``None`` when nothing is expected."""
    wanted = shingles(expected)
    if not wanted:
        return None
    found = shingles(output)
    shared = sum((found & wanted).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(found.values()), shared / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)


def collapse(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def snippet_counts(output: str, page: Page) -> tuple[int, int, int]:
    """(true positives, false negatives, false positives) of one page's snippets."""
    text = collapse(output)
    found = sum(collapse(snippet) in text for snippet in page.with_snippets)
    wrong = sum(collapse(snippet) in text for snippet in page.without_snippets)
    return found, len(page.with_snippets) - found, wrong


@dataclass
class Score:
    """One extractor's results on one set."""

    f1s: list[float] = field(default_factory=list)
    snippets: list[int] = field(default_factory=lambda: [0, 0, 0])  # tp, fn, fp
    titles: list[bool] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def add(self, page: Page, output: Output, metadata: bool) -> dict:
        record = {"title": output.title, "date": output.date, "ms": round(output.seconds * 1000, 2)}
        self.times.append(output.seconds)
        if page.text is not None:
            f1 = shingle_f1(output.text, page.text)
            if f1 is not None:
                self.f1s.append(f1)
                record["f1"] = round(f1, 4)
        if page.with_snippets is not None:
            counts = snippet_counts(output.text, page)
            self.snippets = [a + b for a, b in zip(self.snippets, counts)]
            record["snippets"] = counts
        if page.title is not None and metadata:
            record["title_ok"] = collapse(output.title) == collapse(page.title)
            self.titles.append(record["title_ok"])
        if page.date is not None and metadata:
            record["date_ok"] = output.date == page.date
            self.dates.append(record["date_ok"])
        return record

    def summary(self, with_text: bool) -> dict:
        tp, fn, fp = self.snippets
        if self.f1s:
            body = statistics.fmean(self.f1s)
        elif tp + fn:
            precision, recall = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn)
            body = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        else:
            body = None
        return {
            "pages": len(self.times),
            "body_f1": round(body, 4) if body is not None and with_text else None,
            "title_exact": _share(self.titles), "titles": len(self.titles),
            "date_exact": _share(self.dates), "dates": len(self.dates),
            "median_ms": round(statistics.median(self.times) * 1000, 1) if self.times else None,
            "total_s": round(sum(self.times), 2),
        }


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


# -- the run ----------------------------------------------------------------------

def score_set(pages: list[Page], extractors: tuple[str, ...], details: list | None) -> dict:
    scores = {name: Score() for name in extractors}
    if pages:
        for name in extractors:  # lazy imports and first-call set-up are not timed
            RUNNERS[name](read_page(pages[0].path), pages[0].url)
    for page in pages:
        body = read_page(page.path)
        record = {"page": page.name, "url": page.url, "expected": {"title": page.title, "date": page.date}}
        for name in extractors:
            try:
                output = RUNNERS[name](body, page.url)
            except Exception as error:  # an extractor that raises scores nothing on the page
                print(f"{name} raised on {page.name}: {error!r}", file=sys.stderr)
                output = Output()
            record[name] = scores[name].add(page, output, metadata=name not in TEXT_ONLY)
        if details is not None:
            details.append(record)
    texts = any(page.text is not None or page.with_snippets is not None for page in pages)
    return {name: score.summary(texts) for name, score in scores.items()}


def table(set_name: str, results: dict) -> str:
    """A Markdown table of one set's results."""
    lines = [f"### {set_name}", "",
             "| extractor | pages | body F1 | title exact | date exact | median ms/page | total s |",
             "|---|---|---|---|---|---|---|"]
    for name, row in results.items():
        title = _cell(row["title_exact"], row["titles"]) if name not in TEXT_ONLY else "-"
        date = _cell(row["date_exact"], row["dates"]) if name not in TEXT_ONLY else "-"
        body = f"{row['body_f1']:.3f}" if row["body_f1"] is not None else "-"
        lines.append(f"| {name} | {row['pages']} | {body} | {title} | {date} | {row['median_ms']} | "
                     f"{row['total_s']} |")
    return "\n".join(lines)


def _cell(share: float | None, count: int) -> str:
    return f"{share:.3f} ({count})" if share is not None else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in SETS:
        parser.add_argument(f"--{name}", type=Path, metavar="DIR", help=f"the {name} set's folder")
    parser.add_argument("--limit", type=int, help="score only the first N pages of each set")
    parser.add_argument("--no-baseline", action="store_true", help="run archiver alone (no trafilatura)")
    parser.add_argument("--configurations", action="store_true",
                        help="also trafilatura without comments, and in its precision and recall modes")
    parser.add_argument("--output", type=Path, help="the JSON summary (default: benchmarks/results/...)")
    parser.add_argument("--details", type=Path, help="also write one record per page to this JSON file")
    arguments = parser.parse_args()
    chosen = {name: getattr(arguments, name) for name in SETS if getattr(arguments, name)}
    if not chosen:
        parser.error("name at least one set's folder (--readability, --trafilatura, --htmldate, --scrapinghub, "
                     "--dragnet)")
    extractors = EXTRACTORS[:1] if arguments.no_baseline else EXTRACTORS
    if arguments.configurations:
        extractors = (*extractors, *CONFIGURATIONS)
    import trafilatura

    summary = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "trafilatura": trafilatura.__version__, "sets": {}}
    details = [] if arguments.details else None
    for name, folder in chosen.items():
        pages = SETS[name](folder)[: arguments.limit]
        results = score_set(pages, extractors, details)
        summary["sets"][name] = {"folder": str(folder), "results": results}
        print(table(name, results) + "\n", flush=True)
    output = arguments.output or RESULTS / f"extraction_quality-{summary['started'][:19].replace(':', '')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if details is not None:
        arguments.details.write_text(json.dumps(details, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
