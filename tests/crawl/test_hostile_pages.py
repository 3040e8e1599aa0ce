"""Hostile pages end to end: a real crawl of a loopback server (tests/hostile.py) answering them."""

from __future__ import annotations

from conftest import run_crawl
from hostile import PARAGRAPHS, HostileServer, article, listing

UTF8 = {"Content-Type": "text/html; charset=utf-8"}


def test_pages_in_the_wrong_charset_with_nuls_or_nested_deep_are_archived(tmp_path):
    """A cp1251 page under a UTF-8 header, a NUL in a title, a body 1,000 elements deep, and a title cut inside
    a character: each archived with its title and text (the last with a warning naming it)."""
    cut = "Заседание Совета министров в Москве".encode("utf-8")[:-1]  # the last letter's first byte only
    pages = {  # path: (title as stored, body as served)
        "/news/news_odkb/cp1251-under-utf8/": ("Заседание Совета министров иностранных дел",
                                               article("Заседание Совета министров иностранных дел").encode("cp1251")),
        "/news/news_odkb/nul-in-title/": ("Встреча генеральных секретарей в Минске",
                                          article("Встреча генеральных\x00 секретарей в Минске").encode("utf-8")),
        "/news/news_odkb/nested-deep/": ("Учения коллективных сил в Таджикистане",
                                         article("Учения коллективных сил в Таджикистане", depth=1000).encode("utf-8")),
        "/news/news_odkb/cut-character/": ("Заседание Совета министров в Москв\ufffd",
                                           article("Заседание Совета министров в Москве").encode("utf-8")
                                           .replace("Заседание Совета министров в Москве".encode("utf-8"), cut)),
    }
    with HostileServer() as server:
        server.page("/news/news_odkb/", listing({path: title for path, (title, _) in pages.items()}))
        for path, (_, body) in pages.items():
            server.route(path, body, headers=UTF8)
        result = run_crawl([server.url("/news/news_odkb/")], tmp_path / "archive.db")
    assert result.returncode == 0, result.log[-3000:]
    stored = {row["url"]: row for row in result.rows("select url, title, text from articles")}
    for path, (title, _) in pages.items():
        row = stored.get(server.url(path))
        assert row is not None, f"{path} not archived:\n{result.log[-3000:]}"
        assert (row["title"], row["text"].split("\n\n")) == (title, PARAGRAPHS), path
    cut_url = server.url("/news/news_odkb/cut-character/")
    warnings = [line for line in result.log.splitlines() if "Undecodable bytes (" in line]
    assert len(warnings) == 1 and warnings[0].endswith(f"read as utf-8 with replacement characters): {cut_url}"), \
        warnings
    assert "Unusable page" not in result.log, result.log[-3000:]
