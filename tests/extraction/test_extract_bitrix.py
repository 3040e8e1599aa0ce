"""Saved Bitrix news pages of shapes the replica does not serve: short notices, lazy photos, listings with text.

Each was once extracted wrong; the page objects are pure functions of the saved page, as in test_extract.py.
"""

from __future__ import annotations

from pathlib import Path

from archiver.extraction.normalize import paragraphs
from archiver.extraction.pages import summarize

PAGES = Path(__file__).parent.parent / "fixtures"
SECTION = "https://odkb-csto.org/news/news_odkb/"


def page(name: str, slug: str = ""):
    return summarize(SECTION + (f"{slug}/" if slug else ""), (PAGES / name).read_bytes(), "csto")


def test_a_short_notice_ending_in_a_link_to_another_article_keeps_its_date_and_text():
    # The whole container (under 700 characters, one other article's link) once passed for that article's
    # teaser: its date was skipped as another article's.
    article = page("ru_short_with_related_link.html", "soboleznovaniya").article
    assert article.is_article and article.extractor == "profile:csto"
    assert article.published == "2020-07-03"
    assert paragraphs(article.text) == [
        "Генеральный секретарь ОДКБ Станислав Зась направил соболезнования в связи с трагическими последствиями "
        "наводнения.",
        "От имени Секретариата ОДКБ он выразил глубокое сочувствие родным и близким погибших и пожелал скорейшего "
        "выздоровления пострадавшим."]


def test_a_short_notice_with_its_pdf_is_an_article_with_its_document():
    summary = page("ru_short_with_pdf_link.html", "zayavlenie-pdf")
    article = summary.article
    assert article.is_article and article.published == "2020-07-03"
    assert article.text.startswith("Генеральный секретарь ОДКБ Станислав Зась направил соболезнования")
    assert [document["url"].rsplit("/", 1)[1] for document in summary.documents] == [
        "%D0%97%D0%B0%D1%8F%D0%B2%D0%BB%D0%B5%D0%BD%D0%B8%D0%B5%20%D0%93%D0%A1%20%D0%9E%D0%94%D0%9A%D0%91.pdf"]


def test_the_pages_own_metadata_dates_an_article_whose_container_shows_no_date():
    article = page("ru_meta_date_only.html", "zayavlenie-mid").article
    assert article.is_article and article.extractor == "profile:csto"
    assert article.published == "2020-07-03T14:35:00"  # <meta property="article:published_time">


def test_lazy_loaded_photos_are_stored_not_their_placeholders():
    images = [image.src for image in page("ru_lazy_photos.html", "foto-vzaimodeystvie").article.images]
    assert "https://odkb-csto.org/upload/iblock/3f4/photo3.jpg" in images  # src: a lazy.gif placeholder
    assert "https://odkb-csto.org/upload/iblock/3f5/photo4.jpg" in images  # src: a data: URI
    assert not [src for src in images if "lazy" in src or src.startswith("data:")]
    assert images[0] == "https://odkb-csto.org/upload/iblock/3f2/%D0%A4%D0%BE%D1%82%D0%BE%201.jpg"
    assert not [src for src in images if "/a1" in src]  # the sidebar's thumbnails
    # A gallery's thumbnails (Bitrix's resize_cache) link to the photos: the photos are the images.
    assert images[-2:] == ["https://odkb-csto.org/upload/iblock/4a1/%D0%A4%D0%BE%D1%82%D0%BE%205.jpg",
                           "https://odkb-csto.org/upload/iblock/4a2/%D0%A4%D0%BE%D1%82%D0%BE%206.jpg"]


def test_images_sized_in_per_cent_are_not_taken_for_icons():
    images = [image.src for image in page("ru_percent_width_images.html", "zastava").article.images]
    assert images == ["https://odkb-csto.org/upload/medialibrary/9b1/zastava1.jpg",
                      "https://odkb-csto.org/upload/medialibrary/9b2/zastava2.jpg"]


def test_a_listing_with_a_few_lines_of_its_own_is_a_listing_with_its_entries():
    for name in ("ru_listing_with_description.html", "ru_listing_bitrix_pager.html"):
        summary = page(name)
        assert summary.article.reason == "listing page", name
        assert summary.is_listing
        assert summary.teasers[SECTION + "zas-kz/"] == (
            "Генеральный секретарь ОДКБ встретился с послом Казахстана", "2020-07-03")
        assert len(summary.teasers) == 4
        assert SECTION + "?PAGEN_1=2" in [link.url for link in summary.links if link.is_pagination]


def test_a_container_nested_in_its_like_is_still_the_profiles_container():
    # <div class="news-detail"><div class="news-detail news-detail--inner">: two matches of one selector, one
    # inside the other. Taken for ambiguous, the page went to the generic path and kept its footer.
    url = "https://en.odkb-csto.org/news/news_odkb/statement-sg/"
    article = summarize(url, (PAGES / "en_nested_detail.html").read_bytes(), "csto").article
    assert article.extractor == "profile:csto"
    assert article.title == "Statement of the CSTO Secretary General on the situation in the region"
    assert article.published == "2020-07-03"
    assert "All rights reserved" not in article.text and "Sitemap" not in article.text
    assert article.text.startswith("Moscow, July 3, 2020. CSTO Secretary General Stanislav Zas")


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


def test_a_headline_in_h2_under_an_h1_naming_the_section_is_the_title_and_dates_the_article():
    # Off the profile's container selectors: the generic path with the profile. The <h1> names the section;
    # <title> says which heading is the headline. The date follows the <h2>, which was never looked at.
    url = "http://127.0.0.1:8765/news/military/uchenie-vzaimodeystvie-2020/"
    article = summarize(url, (PAGES / "ru_h1_section_h2_headline.html").read_bytes(), "csto").article
    assert article.is_article
    assert article.title == "Учение «Взаимодействие-2020» завершилось"
    assert article.published == "2020-12-11"
    assert "Военное сотрудничество" not in paragraphs(article.text)
    assert "Учение «Взаимодействие-2020» завершилось" not in paragraphs(article.text)
    # The caption after the photo's link: <div><a href="photo.jpg"><img></a><div class="...-caption">
    assert article.images[0].caption == "Заключительный этап учения"
    assert article.images[0].src.startswith("http://127.0.0.1:8765/upload/iblock/c4d/")  # the photo, not its thumb


def test_a_page_without_h1_is_dated_from_its_h2_headline():
    url = "http://127.0.0.1:8765/news/culture/festival-pesni/"
    article = summarize(url, (PAGES / "ru_h2_headline_icon_date.html").read_bytes(), "csto").article
    assert article.title == "Фестиваль военной песни собрал участников"
    assert article.published == "2020-12-07"  # <div class="date"><i></i>07.12.2020</div>


def test_a_dated_post_too_short_to_archive_is_not_called_a_listing():
    # A video and its caption beside a sidebar of other news: too short for an article (README: 40 characters
    # with a date), and not a listing either, which made the spider treat it as one.
    side = "".join(f'<div class="item"><span class="news-date-time">0{d}.07.2020</span> '
                   f'<a href="/news/news_odkb/o{d}/">Other news number {d} about the CSTO</a></div>' for d in (1, 2, 3))
    html = (f'<html lang="en"><body><div class="news-detail"><h1>Video: highlights of the exercise</h1>'
            f'<span class="news-date-time">14.12.2020</span><iframe src="https://video.example/x"></iframe>'
            f'<p>Highlights of the joint exercise.</p></div><div class="sidebar">{side}</div></body></html>').encode()
    summary = summarize("https://en.odkb-csto.org/news/news_odkb/video/", html, "csto")
    assert (summary.article.is_article, summary.article.reason) == (False, "body too short (33 characters)")
    assert not summary.is_listing
