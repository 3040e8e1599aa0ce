"""What revisits cost, and what they catch: request counts of incremental runs under the default revisit policy.

    python benchmarks/revisits.py                  # 5,000 articles (both languages)
    python benchmarks/revisits.py --articles 1000
    python benchmarks/revisits.py --links-only --daily    # no sitemaps nor feeds; a run every day after the edits

A replica of the site is served on loopback and crawled with the project's default settings (media downloads off,
so that requests count pages; AutoThrottle and delays off, as in bench.py). The clock is stopped with
``ARCHIVER_NOW`` to play the days between runs:

1. the first crawl, the day after the replica's newest article (day 0);
2. an incremental run of the unchanged site on day 1: its requests as a share of the first crawl's;
3. 2 % of the articles, the most recent ordinary ones, edited in their body only (an "Updated" paragraph: title,
   date and listing entry unchanged, ETag and Last-Modified changed); then incremental runs on day 2 and on the day
   the last edited article is due (with --daily, one every day in between): how many edits each catches (versions
   stored), and its requests.

Requests are counted by the replica (pages, robots.txt, sitemaps and feeds; not the page requisites); timings on a
shared machine mean little, counts do. Writes JSON to benchmarks/results/revisits-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from archiver.cli import FAST_LOCAL_SETTINGS, crawl_command, project_root
from archiver.replica import ReplicaSite, serve_replica
from archiver.replica.model import NEWEST_DATE

SETTINGS = FAST_LOCAL_SETTINGS + ["MEDIA_ENABLED=0", "CONCURRENT_REQUESTS=32", "LOG_LEVEL=WARNING",
                                  "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1", "REQUISITES_ENABLED=0"]
ASSETS = (".jpg", ".jpeg", ".png", ".pdf", ".css", ".js", ".svg", ".woff", ".woff2", ".ico", ".gif")
DAY0 = datetime.combine(NEWEST_DATE + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)


def run(server, db: Path, day: float) -> dict:
    """One crawl with the clock at ``day`` days after day 0; its page requests and its run row."""
    before = len(server.hits)
    env = {**os.environ, "ARCHIVER_NOW": (DAY0 + timedelta(days=day)).isoformat()}
    done = subprocess.run(crawl_command(server.seeds, db, SETTINGS), cwd=project_root(), env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"crawl failed ({done.returncode}): {done.stderr[-2000:]}")
    hits = [hit for hit in server.hits[before:] if not hit["path"].lower().split("?")[0].endswith(ASSETS)]
    with sqlite3.connect(db) as connection:
        row = connection.execute("select mode, requests, articles_new, articles_updated, articles_unchanged"
                                 " from crawl_runs order by id desc limit 1").fetchone()
    summary = next((line for line in done.stderr.splitlines() + done.stdout.splitlines()
                    if line.startswith("archiver: run")), "")
    return {"day": day, "mode": row[0], "requests": row[1], "page_requests": len(hits),
            "not_modified": sum(1 for hit in hits if hit["status"] == 304), "new": row[2], "updated": row[3],
            "unchanged": row[4], "summary": summary}


def missed(db: Path, urls: list[str]) -> list[str]:
    """Which of ``urls`` have no stored version (their edit was not archived)."""
    with sqlite3.connect(db) as connection:
        return [url for url in urls if not connection.execute(
            "select count(*) from article_versions join articles on articles.id = article_versions.article_id"
            " where articles.url = ?", [url]).fetchone()[0]]


def due_day(db: Path, urls: list[str]) -> float:
    """The day on which the last of ``urls`` is due."""
    with sqlite3.connect(db) as connection:
        latest = max(connection.execute("select next_revisit from pages where url = ?", [url]).fetchone()[0]
                     for url in urls)
    return (datetime.fromisoformat(latest) - DAY0).total_seconds() / 86400


def daily(server, db: Path, urls: list[str], start: int, end: int, first_requests: int) -> dict:
    """Incremental runs on each day from ``start`` to ``end``: requests of each, and edits caught so far."""
    days = []
    for day in range(start, end + 1):
        row = run(server, db, day)
        row["edits_caught_so_far"] = len(urls) - len(missed(db, urls))
        days.append({key: row[key] for key in ("day", "page_requests", "updated", "edits_caught_so_far")})
    requests = [row["page_requests"] for row in days]
    return {"runs": days, "max_share_of_first": round(max(requests) / first_requests, 4),
            "mean_share_of_first": round(sum(requests) / len(requests) / first_requests, 4),
            "all_caught_on_day": next((row["day"] for row in days if row["edits_caught_so_far"] == len(urls)), None)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles, both languages (default: 5000)")
    parser.add_argument("--edited", type=float, default=0.02, help="share of the articles edited (default: 0.02)")
    parser.add_argument("--links-only", action="store_true",
                        help="no sitemaps nor feeds: only links and revisits find edits (default: off)")
    parser.add_argument("--daily", action="store_true",
                        help="after the edits, an incremental run every day until the last edited article is due "
                             "(default: off)")
    parser.add_argument("--output", type=Path, help="JSON file (default: benchmarks/results/revisits-<time>.json)")
    arguments = parser.parse_args()
    site = ReplicaSite(articles_per_language=arguments.articles // 2, seed=1)
    if arguments.links_only:
        SETTINGS.extend(["SITEMAPS_ENABLED=0", "FEEDS_ENABLED=0"])
    results = {"articles": arguments.articles, "edited_share": arguments.edited, "links_only": arguments.links_only,
               "day0": DAY0.isoformat(), "settings": SETTINGS, "runs": {}}
    with tempfile.TemporaryDirectory() as workdir, serve_replica(site, port=0) as server:
        db = Path(workdir) / "archive.db"
        first = results["runs"]["first"] = run(server, db, 0)
        unchanged = results["runs"]["unchanged_day1"] = run(server, db, 1)
        unchanged["share_of_first"] = round(unchanged["page_requests"] / first["page_requests"], 4)

        count = round(arguments.edited * arguments.articles)
        # Ordinary articles (the replica's odd ones, such as the broken page whose added paragraph no parser
        # reaches, would measure the replica, not the policy).
        recent = [a for language in ("en", "ru") for a in [a for a in site.articles(language) if not a.role]
                  [:count // 2]]
        urls = [server.base_urls[a.language] + a.path for a in recent]
        for article in recent:
            site.edit_body(article.key)
        results["edited"] = len(recent)
        results["edited_published"] = [str(min(a.order_date for a in recent)), str(max(a.order_date for a in recent))]
        day2 = results["runs"]["edited_day2"] = run(server, db, 2)
        day2["edits_missed"] = missed(db, urls)
        day2["edits_caught"] = len(urls) - len(day2["edits_missed"])
        last_due = due_day(db, urls)
        if arguments.daily:  # a daily cron, until the last edited article is due
            results["daily"] = daily(server, db, urls, 3, int(last_due) + 1, first["page_requests"])
        due = results["runs"]["edited_when_due"] = run(server, db, max(2.0, last_due))
        due["edits_missed"] = missed(db, urls)
        due["edits_caught"] = len(urls) - len(due["edits_missed"])
        for name in ("edited_day2", "edited_when_due"):
            results["runs"][name]["share_of_first"] = round(results["runs"][name]["page_requests"]
                                                            / first["page_requests"], 4)
    output = arguments.output or Path(__file__).parent / "results" / (
        "revisits-" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S%z") + ".json")
    output.write_text(json.dumps(results, indent=1) + "\n")
    for name, row in results["runs"].items():
        print(f"{name:18} day {row['day']:6.2f}: {row['page_requests']:5d} page requests"
              f" ({row.get('share_of_first', 1):.1%} of the first), {row['not_modified']} answered 304, "
              f"{row['new']} new, {row['updated']} updated" +
              (f", edits caught {row['edits_caught']}/{results['edited']}" if "edits_caught" in row else ""))
    if "daily" in results:
        daily_runs = results["daily"]
        print(f"daily runs, days 3 to {daily_runs['runs'][-1]['day']}: at most {daily_runs['max_share_of_first']:.1%}"
              f" of the first crawl's requests a run ({daily_runs['mean_share_of_first']:.1%} on average); every edit"
              f" caught by day {daily_runs['all_caught_on_day']}")
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
