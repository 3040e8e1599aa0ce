"""Bitrix news pages of shapes the replica does not serve, built here in variants that must agree or differ.

Each was once extracted wrong. The saved pages of such shapes (short notices, lazy photos, listings with text)
are golden cases: test_golden.py, tests/fixtures/.
"""

from __future__ import annotations

from archiver.extraction.pages import summarize

HEADLINES = ["CSTO Secretary General met with the Ambassador of Kyrgyzstan",
             "The CSTO Council of Foreign Ministers held a meeting online",
             "Exercises of the CSTO Collective Rapid Reaction Forces postponed"]


def english_listing(item: str) -> bytes:
    items = "".join(item.format(n=n, headline=headline, day=n + 1) for n, headline in enumerate(HEADLINES))
    return f'<html lang="en"><body><h1>CSTO news</h1><div class="news-list">{items}</div></body></html>'.encode()


def test_a_teasers_date_is_its_date_element_not_one_its_preview_mentions_nor_one_glued_to_a_word():
    url = "https://en.odkb-csto.org/news/news_odkb/"
    for item in (
            # the preview mentions another date, before the teaser's own
            '<div class="news-item"><a href="/news/news_odkb/i{n}/">{headline}</a> <p>Preview mentioning '
            '2{n}.06.2020 meeting.</p> <span class="news-date-time">0{day}.07.2020</span></div>',
            # no space between the preview and the date: "preview.01.07.2020" once read as no date at all
            '<div class="news-item"><a href="/news/news_odkb/i{n}/">{headline}</a><p>Short preview.</p>'
            '<span class="d">0{day}.07.2020</span></div>'):
        teasers = summarize(url, english_listing(item), "csto").teasers
        assert [teasers[f"{url}i{n}/"][1] for n in range(3)] == ["2020-07-01", "2020-07-02", "2020-07-03"], item


def english_article(date_html: str, lead: str) -> bytes:
    body = ("The participants discussed the draft documents, including the Statement of the CSTO Ministers of "
            "Foreign Affairs, and the Secretary General stressed the importance of the work.")
    return (f'<html lang="en"><body><div class="news-detail"><h1>CSTO Secretary General met the Permanent '
            f'Council</h1>{date_html}<p>{lead}</p><p>{body}</p><p>{body}</p><p>CSTO Press Service</p></div>'
            f'</body></html>').encode()


def test_an_articles_date_after_an_icon_beats_a_date_its_first_sentence_mentions():
    url = "https://en.odkb-csto.org/news/news_odkb/permanent-council/"
    lead = "Results of the meeting of 25.06.2020 were summed up."
    dated = english_article('<div class="item-date"><i class="icon-calendar"></i> 03.07.2020</div>', lead)
    assert summarize(url, dated, "csto").article.published == "2020-07-03"
    # A sentence that mentions a date is not a date line: without one the article has no date, not that one.
    undated = summarize(url, english_article("", lead), "csto").article
    assert undated.is_article and undated.published is None
    assert summarize(url, english_article("", "Moscow, 25.06.2020"), "csto").article.published == "2020-06-25"


def test_links_no_url_can_be_made_of_cost_the_page_nothing():
    # A port out of range and a broken IPv6 address made w3lib raise, and the whole page was lost.
    lines = "".join(f"<p>Line {n} of the statement of the CSTO Secretary General on the situation.</p>" for n in range(6))
    html = (f'<html lang="en"><body><div class="news-detail"><h1>Statement of the CSTO Secretary General</h1>'
            f'<span class="news-date-time">03.07.2020</span>{lines}<p>See <a href="http://odkb-csto.org:99999/x">'
            f'the annex</a>, <a href="http://[::1/y">the map</a>.</p><img src="http://[::1/z.jpg">'
            f'<img src="/upload/iblock/1/a.jpg"><a href="\\news\\news_odkb\\">Back to the section</a></div>'
            f'</body></html>').encode()
    summary = summarize("https://en.odkb-csto.org/news/news_odkb/statement/", html, "csto")
    assert summary.article.is_article and summary.article.published == "2020-07-03"
    assert [image.src for image in summary.article.images] == ["https://en.odkb-csto.org/upload/iblock/1/a.jpg"]
    # A backslash in an href is a slash, as browsers read it.
    assert "https://en.odkb-csto.org/news/news_odkb/" in [link.url for link in summary.links]
