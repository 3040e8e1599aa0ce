import pytest

from archiver.extraction.normalize import canonical_url, clean_text, content_hash, find_dates, paragraphs, parse_date
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
    ("https://en.odkb-csto.org/news/?PAGEN_1=01", "https://en.odkb-csto.org/news/"),
    ("https://odkb-csto.org/news/?q=%d0%9f%d1%80", "https://odkb-csto.org/news/?q=%D0%9F%D1%80"),
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
    ("July 3, 2020 2:35 PM", "2020-07-03T14:35:00"),  # not 02:35
    ("3 July 2020 2:35 pm, Moscow", "2020-07-03T14:35:00"),
    ("03.13.2020", None),  # no 13th month: not read month first on a day-first site
    ("3 июня 2020 г., 14:35", "2020-06-03T14:35:00"),  # the time after "г.," is the date's
    ("Jul 3rd, 2020", "2020-07-03"),
    ("3rd July 2020", "2020-07-03"),
    ("2020/07/03", "2020-07-03"),  # year first: never day first
    ("03-07-2020", "2020-07-03"),
    ("03-13-2020", None),
    ("тел. 8-495-606-97-91", None),
    ("12/25/2020", None),
    ("© 2009–2026", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text, dayfirst=True, formats=CSTO.date_formats) == expected


def test_query_escapes_in_other_encodings_than_utf8_are_kept_byte_for_byte():
    # windows-1251 "Террор" and "абвгде": decoded as UTF-8 both became U+FFFD escapes, one URL for two pages.
    first = canonical_url("https://odkb-csto.org/news/?tag=%D2%E5%F0%F0%EE%F0", CSTO)
    second = canonical_url("https://odkb-csto.org/news/?tag=%E0%E1%E2%E3%E4%E5", CSTO)
    assert first == "https://odkb-csto.org/news/?tag=%D2%E5%F0%F0%EE%F0"
    assert second == "https://odkb-csto.org/news/?tag=%E0%E1%E2%E3%E4%E5"
    assert canonical_url(first, CSTO) == first


def test_urls_that_cannot_be_normalized_come_back_as_written_and_ipv6_hosts_keep_their_brackets():
    assert canonical_url("http://x.org:99999/a", CSTO) == "http://x.org:99999/a"  # w3lib raised
    assert canonical_url("https://[::1]:8080/news/", CSTO) == "https://[::1]:8080/news/"
    assert canonical_url("https://odkb-csto.org/news/news_odkb/slug/;jsessionid=A1B2", CSTO) == \
        "https://odkb-csto.org/news/news_odkb/slug/"


def test_sid_is_a_page_parameter_not_tracking():
    # PHP-Nuke-style sites number their stories with sid: dropping it made every story one URL.
    urls = {canonical_url(f"http://example.com/modules.php?name=News&file=article&sid={n}", GENERIC) for n in (1, 2)}
    assert len(urls) == 2


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

    from archiver.extraction import normalize

    profile = load_profile("csto")
    fast = canonical_url(url, profile)
    assert normalize.PLAIN_PATH_QUERY_URL.match(url)
    monkeypatch.setattr(normalize, "PLAIN_PATH_QUERY_URL", re.compile(r"(?!)"))  # w3lib's path for all
    normalize._canonical_url.cache_clear()
    assert canonical_url(url, profile) == fast
    normalize._canonical_url.cache_clear()


def test_absolute_urls_are_urljoin_and_w3lib_whatever_the_cache_key():
    """absolute_url caches hrefs that do not depend on the page (absolute ones, root-relative ones under their
    host, other schemes such as mailto:) under a key without the page: the result is urljoin's, made safe by
    w3lib, as for any other href."""
    from urllib.parse import urljoin

    from w3lib.url import safe_url_string

    from archiver.extraction.hyperlinks import absolute_url

    bases = ["http://127.0.0.1:8000/news/a/", "https://x.org/a/b?c#d", "ftp://h/a/", "HTTP://X.org/a/", "http://h"]
    hrefs = ["mailto:x@y", "tel:+7 495", "javascript:history.back()", "HTTP:x", "http:x", "https://a/b c", "/a/b",
             "a:b", "ftp://x/y", "ftp:foo", "a/b:c", "skype:x?call", "1a:b", "HTTPS:/x", "//h/p", "?q=1", "#f",
             "../x", "data:text/html,hi", "  mailto:y  ", "/новости/", "https://vk.com/share.php?url=http%3A%2F%2Fh%2F"]
    for _ in range(2):  # and again from the cache
        for base in bases:
            for href in hrefs:
                assert absolute_url(base, href) == safe_url_string(urljoin(base, href.strip())), (base, href)


@pytest.mark.parametrize("seed", range(4))
def test_urls_safe_as_they_are_are_those_w3lib_leaves_alone(seed):
    """SAFE_URL (upper-case escapes in path and query allowed) matches only URLs that safe_url_string returns
    unchanged: generated URLs of unreserved characters, escapes, and characters w3lib would escape."""
    import random

    from w3lib.url import safe_url_string

    from archiver.extraction.normalize import SAFE_URL

    rng = random.Random(seed)
    pieces = ["a", "Z", "0", ".", "_", "~", "-", "/", "=", "&", "%3A", "%2F", "%D0%BF", "%20", "%25", "%2b", "%7e",
              "%", "%G1", " ", "п", "+", "#", "'", "|", "[", "\\"]
    matched = 0
    for _ in range(5000):
        path = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        query = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        url = f"{rng.choice(['http', 'https'])}://{rng.choice(['example.com', '127.0.0.1:8080', 'vk.com'])}/{path}"
        url += f"?{query}" if rng.random() < 0.8 else ""
        if SAFE_URL.match(url):
            matched += 1
            assert safe_url_string(url) == url, url
    assert matched > 100  # the generator does reach the pattern
