"""Which date a page was published: the URL's day, the shown day, the metadata's (archiver.extraction.published)."""

from __future__ import annotations

import lxml.html
import pytest

from archiver.extraction.htmltree import json_ld, structured_type
from archiver.extraction.normalize import parse_date
from datetime import timedelta

from archiver.extraction.published import choose, page_offset, url_date


@pytest.mark.parametrize("url, day", [
    ("https://example.org/2025/06/23/harbour-reopens/", "2025-06-23"),
    ("https://example.org/news/2025-06-23-harbour-reopens", "2025-06-23"),
    ("https://example.org/news/20250623/harbour-reopens", "2025-06-23"),
    ("https://example.org/home/2017/7/12/harbour-reopens", "2017-07-12"),  # one digit between separators
    ("https://example.org/2017/7/123/slug", None),
    ("https://example.org/2023/10/3-questions-for-the-mayor/", None),  # a month, then a slug
    ("https://example.org/2025/06/harbour-reopens/", None),  # a month is not a day
    ("https://example.org/news/2025/06/31/slug/", None),  # no such day
    ("https://example.org/news/123456789012/slug", None),  # an id, not a date
    ("https://web.archive.org/web/20130217080612/http://example.org/2012/08/slug/", None),  # a 14-digit stamp
    ("https://example.org/list/?date=2025-06-23", None),  # a query is a listing's choice, not the article's
    ("https://example.org/2999/01/01/from-the-future/", None),
])
def test_the_day_a_url_names(url, day):
    assert url_date(url) == day


def test_a_local_time_keeps_its_own_day_whatever_its_offset():
    assert parse_date("2025-06-23T23:45:00+03:00") == "2025-06-23T23:45:00"
    assert parse_date("2025-06-24T00:15:00+02:00") == "2025-06-24T00:15:00"
    assert parse_date("20201123T11:02:35Z") == "2020-11-23T11:02:35"


def test_the_url_day_decides_and_the_time_is_kept_when_it_is_of_that_day():
    assert choose("2023-11-09T05:30:59+00:00", None, "2023-11-08") == "2023-11-08"
    assert choose("2023-11-08T23:30:59-05:00", None, "2023-11-08") == "2023-11-08T23:30:59"
    assert choose(None, None, "2025-06-23") == "2025-06-23"


def test_the_shown_day_wins_over_a_utc_time_near_midnight_and_the_metadata_otherwise():
    # UTC metadata of an article shown at a quarter past midnight, local time; and of one shown the evening before.
    assert choose("2025-06-23T22:15:00Z", "2025-06-24T00:15", None) == "2025-06-24T00:15:00"
    assert choose("2023-11-09T05:30:59+00:00", "2023-11-08T23:30:59", None) == "2023-11-08T23:30:59"
    # A time with its own offset is the page's local time already; noon in UTC is the same day nearly everywhere.
    assert choose("2020-01-13T18:54:00+01:00", "2020-01-14", None) == "2020-01-13T18:54:00"
    assert choose("2023-11-06T12:00:00+00:00", "2023-11-05", None) == "2023-11-06T12:00:00"
    # A shown date weeks away is another one (an update, a related article).
    assert choose("2025-06-23T22:15:00Z", "2025-07-30", None) == "2025-06-23T22:15:00"
    assert choose(None, "2025-07-30", None, "2025-07-29") == "2025-07-30"


def test_a_shown_time_is_the_same_moment_only_a_whole_number_of_quarter_hours_away():
    # 22:15:37 UTC shown as a quarter past midnight, written to the minute: the same moment two hours east.
    assert choose("2025-06-23T22:15:37Z", "2025-06-24T00:15", None) == "2025-06-24T00:15:00"
    assert choose("2025-06-23T22:15:00Z", "2025-06-24T05:45", None) == "2025-06-24T05:45:00"  # +07:30
    # The last edit's time by the headline, 14 hours 43 minutes later: another moment, the metadata's day stays.
    assert choose("2024-12-06T22:00:40Z", "2024-12-07T12:43:39", None) == "2024-12-06T22:00:40"
    assert choose("2024-12-06T22:00:40Z", "2024-12-07", None) == "2024-12-07"  # a shown day alone: no time to tell


def test_json_ld_in_a_cdata_section_and_in_a_graph_is_read():
    page = lxml.html.document_fromstring(
        '<html><head><script type="application/ld+json">//<![CDATA[\n{"@type": "NewsArticle", '
        '"datePublished": "2024-05-14T09:30:00+02:00"}\n//]]></script>'
        '<script type="application/ld+json">{"@graph": [{"@type": "WebSite"}, {"@type": "Article", '
        '"datePublished": "2024-03-01"}]}</script></head><body><p>x</p></body></html>')
    found = [(node.get("@type"), node.get("datePublished")) for node in json_ld(page)]
    assert ("NewsArticle", "2024-05-14T09:30:00+02:00") in found and ("Article", "2024-03-01") in found
    assert structured_type(page) >= {"newsarticle", "website", "article"}


def test_an_unreadable_date_gives_way_to_the_next_source():
    assert choose("{{ article.published_at }}", None, None, "2025-06-23") == "2025-06-23"
    assert choose("{{ article.published_at }}", None, None) is None


def test_a_utc_time_near_midnight_moves_to_the_zone_the_pages_other_timestamps_state():
    offset = page_offset(["2023-11-08T23:05:04-08:00", "2023-11-08T21:24:10-08:00", "2023-11-09T07:55:47+00:00",
                          None, "4 hours ago"])
    assert offset == timedelta(hours=-8)
    assert choose("2023-11-09T06:35:29+00:00", None, None, None, offset) == "2023-11-08T22:35:29"
    assert choose("2023-11-09T12:35:29+00:00", None, None, None, offset) == "2023-11-09T12:35:29"  # same day there
    assert choose("2023-11-09T06:35:29", None, None, None, offset) == "2023-11-09T06:35:29"  # no zone: as written
    assert choose("2023-11-09T06:35:29Z", "2023-11-09", None, None, offset) == "2023-11-09T06:35:29"  # shown day
    assert page_offset(["2023-11-09T07:55:47+00:00", "2023-11-09T07:55:47Z"]) is None


@pytest.mark.parametrize("text, day", [
    ("3. Februar 2022, 00:30 Uhr", "2022-02-03T00:30:00"),
    ("3 de mayo de 2022", "2022-05-03"),
    ("Publié le 8 mars 2022", "2022-03-08"),
    ("2 czerwca 2021", "2021-06-02"),
    ("12 февраля 2020 г.", "2020-02-12"),
])
def test_month_names_of_other_languages(text, day):
    assert parse_date(text) == day


def test_metadata_that_is_the_json_ld_modification_time_gives_way_to_its_publication_time():
    from archiver.extraction.extract import extract_article

    def page(meta: str, ld: str) -> str:
        return (f'<html><head><title>River survey</title><meta property="article:published_time" content="{meta}">'
                f'<script type="application/ld+json">{{"@type": "BlogPosting", {ld}}}</script></head>'
                f"<body><article><h1>River survey</h1><p>{'The volunteers walked the river. ' * 20}</p>"
                f"<p>{'They counted the slips. ' * 20}</p></article></body></html>")

    url = "https://valley-notes.example/river-survey"
    edited = page("2019-12-12T21:17:43.462Z",
                  '"datePublished": "2019-12-09T10:25:10Z", "dateModified": "2019-12-12T21:17:43.643Z"')
    assert extract_article(edited, url).published == "2019-12-09T10:25:10"
    # Without a modification time that matches it, the metadata's own date stays.
    kept = page("2019-12-12T21:17:43Z", '"datePublished": "2019-12-09T10:25:10Z", "dateModified": "2019-12-13"')
    assert extract_article(kept, url).published == "2019-12-12T21:17:43"
