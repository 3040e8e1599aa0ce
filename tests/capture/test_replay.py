"""A replayable archive, end to end on the replica: a first crawl and an incremental one (one shared pair), then
what an archivist checks. Page requisites are captured apart from articles; a 304 is a revisit of the earlier
capture; pywb (started here, on loopback, over the archive's own CDXJ index) replays an article with its
stylesheet and every image, read by headless Chromium, and the latest capture of a listing that answered 304 with
its headlines; ``archiver verify`` names each kind of damage; ``wacz validate`` passes on ``archiver wacz``."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.capture.index import NOT_MODIFIED_PROFILE
from archiver.cli import project_root
from archiver.replica import ReplicaSite, serve_replica

from conftest import assert_matches_ground_truth, free_port, rows, run_crawl
from replay_helpers import collection, pywb_venv, wayback

sys.path.insert(0, str(Path(__file__).parents[1] / "archive"))  # the browser test's Chromium driver
from datasette_helpers import Browser  # noqa: E402

TEMPLATE = "/local/templates/csto"
# pywb shows a page in its frame (a browser asking for the page itself is sent to the frame): the replayed document.
PAGE = "((document.querySelector('#replay_iframe') || {}).contentDocument || document)"


@pytest.fixture(scope="module")
def site_server():
    site = ReplicaSite(articles_per_language=34, seed=11)
    with serve_replica(site, port=0, hosts=("127.0.0.11", "127.0.0.12"), external_host="127.0.0.13",
                       slow_seconds=2.0, huge_page_bytes=6_000_000) as server:
        yield server


@pytest.fixture(scope="module")
def crawled(site_server, tmp_path_factory):
    """A first crawl and an incremental one into the same archive; the replica's hits of each."""
    db = tmp_path_factory.mktemp("replay") / "data" / "archive.db"
    runs = []
    for _ in range(2):
        before = len(site_server.hits)
        result = run_crawl(site_server.seeds, db)
        result.hits = list(site_server.hits[before:])
        runs.append(result)
    return runs


@pytest.fixture(scope="module")
def db(crawled) -> Path:
    return crawled[0].db_path


def archiver_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=project_root(), capture_output=True,
                          text=True, timeout=300)


def test_requisites_are_captured_apart_from_articles(site_server, crawled, db):
    first, second = crawled
    for run in crawled:
        assert run.returncode == 0, run.log[-3000:]
        assert "Traceback" not in run.log
    assert_matches_ground_truth(site_server, db)  # requisites make no article rows
    assert re.search(r"'archiver/requisites/fetched': \d+", first.log)
    paths = {hit["path"] for hit in first.hits}
    for wanted in ("/template_styles.css?v=3", "/images/bg.png", "/fonts/ptsans.woff2", "/print.css",
                   "/images/sprite.svg", "/images/flags/ru.png", "/images/share/vk.png", "/images/banner.png",
                   "/js/script.js?v=3"):
        assert TEMPLATE + wanted in paths, wanted  # url() in CSS, @import, flags, share icons, data-src, scripts
    assert any(path.endswith(".jpg?2x") for path in paths), "srcset candidates are fetched"
    # robots.txt disallows /bitrix/: the CMS's own stylesheet and script are not fetched by default.
    assert not [path for path in paths if path.startswith(("/bitrix/cache/", "/bitrix/js/"))]
    for run in crawled:  # once per URL per run
        counts = {}
        for hit in run.hits:
            if hit["path"].startswith(TEMPLATE):
                counts[(hit["host"], hit["path"])] = counts.get((hit["host"], hit["path"]), 0) + 1
        assert counts and max(counts.values()) == 1, counts
    # The second run's copies are revisits of the first's (same payload digest; the replica gzips text afresh).
    styles = rows(db, "select record_type, run_id from captures where url like ? and record_type != 'request'",
                  f"%{TEMPLATE}/images/bg.png")
    last = max(row["run_id"] for row in styles)
    assert {row["record_type"] for row in styles if row["run_id"] == last} == {"revisit"}
    assert not rows(db, "select url from articles where url like ?", f"%{TEMPLATE}%")


def test_a_304_is_a_revisit_of_the_earlier_capture(crawled, db):
    assert any(hit["status"] == 304 for hit in crawled[1].hits)
    not_modified = rows(db, "select * from captures where status = 304")
    assert not_modified and {row["record_type"] for row in not_modified} == {"revisit"}
    warc_dir = db.parent / "warc"
    for row in not_modified[:5]:
        with open(warc_dir / row["warc_file"], "rb") as stream:
            stream.seek(row["offset"])
            record = next(iter(ArchiveIterator(stream)))
        headers = record.rec_headers
        assert headers.get_header("WARC-Profile") == NOT_MODIFIED_PROFILE
        earlier = rows(db, "select * from captures where record_id = ?", headers.get_header("WARC-Refers-To"))[0]
        assert earlier["status"] == 200 and earlier["record_type"] == "response"
        assert headers.get_header("WARC-Refers-To-Target-URI") == earlier["url"] == row["url"]
        assert headers.get_header("WARC-Refers-To-Date") == earlier["warc_date"]
        assert headers.get_header("WARC-Payload-Digest") == earlier["payload_digest"]
        assert record.http_headers is None  # pywb replays the earlier capture's headers, not an empty 304
        # The 304's own headers, as named fields indexers leave out (an HTTP message would replay as the page).
        metadata = rows(db, "select offset from captures where record_type = 'metadata' and warc_file = ? and "
                            "url = ? and offset > ? order by offset limit 1", row["warc_file"], row["url"],
                        row["offset"])[0]
        with open(warc_dir / row["warc_file"], "rb") as stream:
            stream.seek(metadata["offset"])
            fields = next(iter(ArchiveIterator(stream)))
            assert fields.rec_headers.get_header("Content-Type") == "application/warc-fields"
            assert fields.rec_headers.get_header("WARC-Concurrent-To") == headers.get_header("WARC-Record-ID")
            assert fields.content_stream().read().startswith(b"HTTP-Status-Line: HTTP/1.1 304 Not Modified\r\n")
    for line in (warc_dir / "index.cdxj").read_text().splitlines():
        fields = json.loads(line.split(" ", 2)[2])
        assert not (fields["status"] == "304" and fields["mime"] != "warc/revisit"), line


@pytest.fixture(scope="module")
def replay(db, tmp_path_factory):
    venv = pywb_venv()
    root = tmp_path_factory.mktemp("pywb")
    collection(root, "csto", db.parent / "warc")
    log = root / "wayback.log"
    with wayback(venv, root, free_port(), log) as url:
        yield url + "/csto", log


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no chromium here (apt-get install chromium)")
    opened = Browser(found, tmp_path_factory.mktemp("profile"), 1200, 900)
    try:
        yield opened
    finally:
        opened.close()


def not_found(log: Path, host: str) -> list[str]:
    """pywb's 404 answers for URLs on ``host`` outside the paths robots.txt disallows."""
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if re.search(r'" 404 ', line) and host in line and "/bitrix/" not in line]


def test_an_article_replays_with_its_stylesheet_and_every_image(db, replay, browser):
    base, log = replay
    article = rows(db, "select a.url, c.warc_date from articles a join captures c on c.warc_file = a.warc_file "
                       "and c.offset = a.warc_offset where exists (select 1 from images i where i.article_id = a.id) "
                       "and a.language = 'en' order by a.id limit 1")[0]
    stamp = re.sub(r"\D", "", article["warc_date"])[:14]
    browser.open(f"{base}/{stamp}mp_/{article['url']}")
    sheets = browser.wait_for(f"Array.from({PAGE}.styleSheets).filter(s => s.href && "
                              "s.href.includes('template_styles.css') && s.cssRules.length > 0).length")
    assert sheets == 1
    images = browser.wait_for(f"(() => {{ const all = Array.from({PAGE}.images).filter(i => !i.src.startsWith("
                              "'data:')); return all.length && all.every(i => i.complete) && "
                              "all.map(i => [i.currentSrc || i.src, i.naturalWidth > 0]); })()")
    assert images and len(images) >= 4, images  # logo, flags, the article's photos, thumbnails, share icons
    assert all(loaded for _, loaded in images), [src for src, loaded in images if not loaded]
    assert browser.js(f"getComputedStyle({PAGE}.body).fontFamily").startswith('"PT Sans"')
    host = urlsplit(article["url"]).netloc
    assert not not_found(log, host), not_found(log, host)[:5]


def test_the_latest_capture_of_a_listing_that_answered_304_shows_its_headlines(db, replay, browser):
    base, _ = replay
    listing = rows(db, "select url, warc_date from captures where status = 304 and url like '%/news/' "
                       "order by id desc limit 1")[0]
    with urllib.request.urlopen(f"{base}/2999mp_/{listing['url']}", timeout=30) as answer:
        assert answer.status == 200
        stamp = answer.headers["Memento-Datetime"]
    # The latest capture is the 304's revisit: pywb serves the earlier page at its date.
    assert stamp and re.sub(r"\D", "", listing["warc_date"])[6:8] in stamp
    browser.open(f"{base}/2999mp_/{listing['url']}")
    headlines = browser.wait_for(f"Array.from({PAGE}.querySelectorAll('.news-item__title')).map(a => a.textContent)")
    assert len(headlines) >= 5 and all(title.strip() for title in headlines), headlines


def copy_archive(db: Path, target: Path) -> Path:
    shutil.copytree(db.parent, target / "data")
    return target / "data" / "archive.db"


def index_lines(db: Path) -> list[str]:
    return (db.parent / "warc" / "index.cdxj").read_text().splitlines()


def write_index(db: Path, lines: list[str]) -> None:
    (db.parent / "warc" / "index.cdxj").write_text("".join(line + "\n" for line in lines))


def damage_length(db):
    lines = index_lines(db)
    fields = json.loads(lines[5].split(" ", 2)[2])
    fields["length"] = str(int(fields["length"]) + 40)
    lines[5] = " ".join(lines[5].split(" ", 2)[:2] + [json.dumps(fields)])
    write_index(db, lines)
    return "index.cdxj:6: record at offset"


def damage_surt(db):
    lines = index_lines(db)
    key, rest = lines[7].split(" ", 1)
    lines[7] = key.replace(")/", ")/zz", 1) + " " + rest
    write_index(db, sorted(lines))
    return "SURT key"


def damage_order(db):
    write_index(db, list(reversed(index_lines(db))))
    return "CDXJ UNSORTED"


def damage_row_url(db):
    with sqlite3.connect(db) as conn:
        conn.execute("update captures set url = url || 'x' where id = (select min(id) from captures "
                     "where record_type = 'response')")
    return "captures says url"


def damage_row_date(db):
    with sqlite3.connect(db) as conn:
        conn.execute("update captures set warc_date = '2001-01-01T00:00:00.000000Z' where id = (select max(id) "
                     "from captures where record_type = 'response')")
    return "captures says warc_date"


def damage_gzip(db):
    row = rows(db, "select warc_file, offset, length from captures where record_type = 'response' and "
                   "content_type like 'text/html%' order by id limit 1")[0]
    path = db.parent / "warc" / row["warc_file"]
    data = bytearray(path.read_bytes())
    middle = row["offset"] + row["length"] // 2
    data[middle:middle + 8] = bytes(b ^ 0x5A for b in data[middle:middle + 8])
    path.write_bytes(bytes(data))
    return f"record at offset {row['offset']} of {row['warc_file']} is not a complete gzip member"


@pytest.mark.parametrize("damage", [damage_length, damage_surt, damage_order, damage_row_url, damage_row_date,
                                    damage_gzip])
def test_verify_names_each_damage(db, tmp_path, damage):
    copy = copy_archive(db, tmp_path)
    if damage is damage_length:  # once: the undamaged copy passes
        sound = archiver_cli("verify", "--db", str(copy))
        assert sound.returncode == 0, sound.stdout[-3000:]
    expected = damage(copy)
    result = archiver_cli("verify", "--db", str(copy))
    assert result.returncode == 1, result.stdout[-2000:]
    assert expected in result.stdout, result.stdout[-2000:]
    assert "Traceback" not in result.stdout + result.stderr


def test_wacz_validates(db, tmp_path):
    output = tmp_path / "csto.wacz"
    made = archiver_cli("wacz", "--db", str(db), "-o", str(output))
    assert made.returncode == 0, made.stderr
    assert "archiver wacz:" in made.stdout and output.exists()
    checked = subprocess.run([sys.executable, "-c", "import sys; from wacz.main import main; "
                              "sys.exit(main(['validate', '-f', sys.argv[1]]))", str(output)],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert "is valid" in checked.stdout


def test_requests_ask_for_encodings_every_replay_tool_decodes(db):
    row = rows(db, "select warc_file, offset from captures where record_type = 'request' and url like '%/news/' "
                   "limit 1")[0]
    with open(db.parent / "warc" / row["warc_file"], "rb") as stream:
        stream.seek(row["offset"])
        record = next(iter(ArchiveIterator(stream)))
    assert record.http_headers.get_header("Accept-Encoding") == "gzip, deflate"  # no br, no zstd


def test_requisites_robots_txt_disallows_are_fetched_only_when_asked(site_server, tmp_path):
    before = len(site_server.hits)
    result = run_crawl(site_server.seeds, tmp_path / "data" / "archive.db", ["REQUISITES_IGNORE_ROBOTS=1"])
    assert result.returncode == 0, result.log[-3000:]
    paths = {hit["path"] for hit in site_server.hits[before:]}
    assert any(path.startswith("/bitrix/cache/css/") for path in paths), "the CMS's stylesheet, for rendering"
    assert any(path.startswith("/bitrix/js/") for path in paths)
    # Pages stay under robots.txt: neither its disallowed sections nor search pages are fetched.
    assert not [path for path in paths if path.startswith(("/news/closed/", "/search/"))]


def test_wacz_of_no_archive_is_one_line(tmp_path):
    result = archiver_cli("wacz", "--db", str(tmp_path / "none.db"), "-o", str(tmp_path / "x.wacz"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no archive" in result.stderr
