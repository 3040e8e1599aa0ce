import pytest

from archiver.normalize import canonical_url, clean_text, content_hash, find_dates, paragraphs, parse_date
from archiver.profiles import GENERIC, load_profile

CSTO = load_profile("csto")


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://EN.ODKB-CSTO.ORG/news/news_odkb/slug/", "https://en.odkb-csto.org/news/news_odkb/slug/"),
    ("https://en.odkb-csto.org/news/news_odkb/slug", "https://en.odkb-csto.org/news/news_odkb/slug/"),
    ("https://en.odkb-csto.org/news/news_odkb/slug/index.php", "https://en.odkb-csto.org/news/news_odkb/slug/"),
    ("https://en.odkb-csto.org/news/news_odkb/slug/#comments", "https://en.odkb-csto.org/news/news_odkb/slug/"),
    ("https://en.odkb-csto.org/news/news_odkb/slug/?utm_source=tg&utm_medium=social",
     "https://en.odkb-csto.org/news/news_odkb/slug/"),
    ("https://en.odkb-csto.org/news/news_odkb/slug/?sphrase_id=123", "https://en.odkb-csto.org/news/news_odkb/slug/"),
    ("https://en.odkb-csto.org:443/news/", "https://en.odkb-csto.org/news/"),
    ("https://en.odkb-csto.org/news/?PAGEN_1=1", "https://en.odkb-csto.org/news/"),
    ("https://en.odkb-csto.org/news/?z=1&PAGEN_1=3", "https://en.odkb-csto.org/news/?PAGEN_1=3&z=1"),
    ("http://127.0.0.1:8000/upload/a b.jpg", "http://127.0.0.1:8000/upload/a%20b.jpg"),
])
def test_canonical_url_folds_variants(url, expected):
    assert canonical_url(url, CSTO) == expected


def test_canonical_url_keeps_case_of_path_and_files():
    assert canonical_url("https://x.org/Upload/Doc.PDF", CSTO) == "https://x.org/Upload/Doc.PDF"


def test_generic_profile_does_not_add_trailing_slash():
    assert canonical_url("https://x.org/a/b?utm_campaign=z", GENERIC) == "https://x.org/a/b"


def test_cyrillic_path_is_percent_encoded_once():
    once = canonical_url("https://odkb-csto.org/upload/Заявление ОДКБ.pdf", CSTO)
    assert canonical_url(once, CSTO) == once
    assert " " not in once and "%D0%97" in once


@pytest.mark.parametrize("text, expected", [
    ("03.07.2020", "2020-07-03"),  # day first: 3 July, never 7 March
    ("12.02.2020", "2020-02-12"),
    ("12 февраля 2020 г.", "2020-02-12"),
    ("1 мая 2021", "2021-05-01"),
    ("3 июля 2020 года", "2020-07-03"),
    ("July 3, 2020", "2020-07-03"),
    ("Published: 03.07.2020 14:30", "2020-07-03T14:30:00"),
    ("2020-07-03T10:00:00+03:00", "2020-07-03T10:00:00"),
    ("20200703T100000+0300", "2020-07-03T10:00:00"),  # ISO 8601 basic format, as some metadata write it
    ("20200703", "2020-07-03"),
    ("12345678", None),
    ("31.02.2020", None),
    ("© 2009–2026", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text, dayfirst=True, formats=CSTO.date_formats) == expected


def test_clean_text_nfc_spaces_controls_and_paragraphs():
    raw = "  First\u00a0line  with  spaces \n\n\n\x07Second\u00adline \u0418\u0306\r\n"
    cleaned = clean_text(raw)
    assert cleaned == "First line with spaces\n\nSecondline \u0419"
    assert paragraphs(cleaned) == ["First line with spaces", "Secondline \u0419"]


def test_content_hash_changes_with_content_only():
    assert content_hash("a", "b") == content_hash("a", "b")
    assert content_hash("a", "b") != content_hash("a", "c")
    assert content_hash("ab", "") != content_hash("a", "b")


def test_find_dates_in_running_text():
    text = ("Published 03.07.2020, updated 2020-07-04 10:15. On January 5, 2021 and on 12 февраля 2020 г. "
            "the council met; on Mayor 12, 2020 and xJanuary 5, 2021 nothing is a date.")
    assert find_dates(text) == ["03.07.2020", "2020-07-04 10:15", "January 5, 2021", "12 февраля 2020"]
    assert find_dates("") == [] and find_dates("1203.07.2020") == []


@pytest.mark.parametrize("url", [
    "https://vk.com/share.php?url=http%3A%2F%2Fen.odkb-csto.org%2Fnews%2Fnews_odkb%2Fa-b%2F",
    "https://example.com/a/b?z=1&a=%d0%bf+x&utm_source=feed&PAGEN_1=1",
    "http://example.com:8080/x.pdf?b=&a=%7E",
])
def test_urls_with_plain_queries_skip_w3lib_with_the_same_result(url, monkeypatch):
    import re

    from archiver import normalize

    profile = load_profile("csto")
    fast = canonical_url(url, profile)
    assert normalize.PLAIN_PATH_QUERY_URL.match(url)
    monkeypatch.setattr(normalize, "PLAIN_PATH_QUERY_URL", re.compile(r"(?!)"))  # w3lib's path for all
    normalize._canonical_url.cache_clear()
    assert canonical_url(url, profile) == fast
    normalize._canonical_url.cache_clear()
