"""What a page needs to render, as archiver.capture.requisites reads it from HTML and CSS (pure functions; the
crawl that fetches them is tests/capture/test_replay.py)."""

from __future__ import annotations

from archiver.capture.requisites import AbsoluteURLs, absolute, css_urls, html_requisites, srcset_urls

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/css/site.css?v=1"><link rel="alternate" href="/rss/"><link rel="icon" href="/favicon.png">
<link rel="preload" as="font" href="/fonts/a.woff2"><script src="/js/app.js"></script><script>var x = 1;</script>
<style>@import url("/css/print.css"); .a {background: url('/img/bg.png')}</style>
</head><body>
<img src="/img/logo.png" srcset="/img/logo@2x.png 2x, /img/logo@3x.png 3x">
<img class="lazy" src="data:image/gif;base64,R0lGOD" data-src="/img/lazy.jpg" data-srcset="/img/lazy-600.jpg 600w">
<picture><source srcset="/img/hero.webp" type="image/webp"><img src="/img/hero.jpg"></picture>
<video poster="/img/poster.jpg"></video><div style="background-image: url(/img/tile.png)"></div>
<input type="image" src="/img/go.png"><input type="text" src="/not-an-image">
<iframe src="/widget/"></iframe><a href="/news/other/">a link is not a requisite</a>
</body></html>"""


def test_every_kind_of_requisite_is_found_and_nothing_else():
    found = set(html_requisites(PAGE))
    assert found == {"/css/site.css?v=1", "/favicon.png", "/fonts/a.woff2", "/js/app.js", "/css/print.css",
                     "/img/bg.png", "/img/logo.png", "/img/logo@2x.png", "/img/logo@3x.png",
                     "data:image/gif;base64,R0lGOD", "/img/lazy.jpg", "/img/lazy-600.jpg", "/img/hero.webp",
                     "/img/hero.jpg", "/img/poster.jpg", "/img/tile.png", "/img/go.png"}


def test_css_url_and_import_in_every_quoting():
    css = """@import "a.css"; @import url(b.css); @font-face {src: url( "f.woff2" ) format("woff2"), url('f.woff')}
    .x {background: url(img/x.png) no-repeat} .y {background: url()}"""
    assert set(css_urls(css)) == {"a.css", "b.css", "f.woff2", "f.woff", "img/x.png"}


def test_srcset_candidates():
    assert srcset_urls("a.jpg 1x, b.jpg 2x,c.jpg") == ["a.jpg", "b.jpg", "c.jpg"]


def test_references_are_made_absolute_and_encoded_as_the_media_pipeline_does():
    base = "http://site.test/local/templates/t/styles.css"
    assert absolute("images/bg.png", base) == "http://site.test/local/templates/t/images/bg.png"
    assert absolute("/upload/Фото 1.jpg#top", base) == \
        "http://site.test/upload/%D0%A4%D0%BE%D1%82%D0%BE%201.jpg"
    for ignored in ("data:image/png;base64,AA", "javascript:void(0)", "#top", "mailto:a@b.c", "  "):
        assert absolute(ignored, base) is None, ignored


def test_remembered_absolute_urls_are_those_of_each_page():
    """The memo keys each reference on the part of the page's URL it depends on: the same answers as absolute()."""
    remembered = AbsoluteURLs()
    bases = ["http://site.test/news/a/", "http://site.test/en/b/c", "https://other.test:8080/news/",
             "http://site.test/news/a/?PAGEN_1=2"]
    references = ["img.png", "../up.css", "/bitrix/t.css", "//cdn.site.test/x.js", "https://site.test/abs.png",
                  " /upload/Фото 1.jpg ", "?page=2", "data:image/png;base64,AA", "#top", "/bitrix/t.css"]
    for _ in range(2):  # the second time from the memo
        for base in bases:
            for reference in references:
                assert remembered(reference, base) == absolute(reference, base), (reference, base)
    small = AbsoluteURLs(limit=3)
    for reference in references:
        assert small(reference, bases[0]) == absolute(reference, bases[0])
    assert len(small.known) <= 3
