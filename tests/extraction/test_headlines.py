"""The headline as the page shows it (archiver.extraction.headlines)."""

from __future__ import annotations

import lxml.html

from archiver.extraction.headlines import best_title, headline_text


def _page(head: str, body: str):
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def test_a_kicker_a_hidden_separator_and_a_subtitle_are_not_the_headline():
    heading = lxml.html.fragment_fromstring(
        '<h1><span class="teaser__kicker">Energy</span><span class="visually-hidden">: </span>'
        '<span class="title">Town switches its buses to hydrogen</span>'
        '<small class="article-subtitle">The first in the region</small></h1>')
    assert headline_text(heading) == "Town switches its buses to hydrogen"
    overline = lxml.html.fragment_fromstring('<h1><span class="dachzeile">Nach der Wahl</span> '
                                             '<span class="headline">Der Rat tagt</span></h1>')
    assert headline_text(overline) == "Der Rat tagt"
    broken = lxml.html.fragment_fromstring('<h1><span>Open Progress</span><br><span>Why we think</span></h1>')
    assert headline_text(broken) == "Open Progress Why we think"


def test_a_heading_made_of_a_kicker_only_keeps_its_text():
    assert headline_text(lxml.html.fragment_fromstring('<h1><span class="kicker">Live</span></h1>')) == "Live"


def test_the_heading_naming_the_site_is_not_the_headline():
    tree = _page('<meta property="og:title" content="Ice on the lake"><meta property="og:site_name" content="Lake Post">',
                 '<h1><a href="/">Lake Post</a></h1><article><h1>The lake froze overnight for the first time</h1></article>')
    assert best_title(tree, "https://lakepost.example/news/ice/", "Ice on the lake") == \
        "The lake froze overnight for the first time"


def test_the_metadata_title_without_the_site_name_when_no_heading_shows_it():
    tree = _page("<title>Ins neue Jahr | Literaturblog</title>", '<h1><a href="https://literaturblog.example/">Literaturblog</a></h1>')
    assert best_title(tree, "https://literaturblog.example/2019/01/01/ins-neue-jahr/",
                      "Ins neue Jahr | Literaturblog") == "Ins neue Jahr"


def test_a_heading_showing_the_title_without_the_site_name_is_chosen_over_the_first():
    tree = _page("", '<h1>Around the region</h1><h2>Interning of small integers in Python</h2>')
    assert best_title(tree, "https://fouryears.example/2019/10/21/interning/",
                      "Four Years » Blog Archive » Interning of Small Integers in Python") == \
        "Interning of small integers in Python"
