"""Parts of a page hidden from its readers are set aside while its text is read, and put back."""

from __future__ import annotations

import lxml.html

from archiver.extraction.extract import extract_from_tree
from archiver.extraction.hidden import hidden_set_aside

PARAGRAPHS = ["The harbour's new ferry made its first crossing on Sunday morning with two hundred passengers "
              "on board, most of them commuters who had waited two years for the service to start.",
              "The crossing takes twelve minutes, a third of the drive around the bay, and the ferry will run "
              "every half hour from six in the morning until ten at night, the operator said."]
HIDDEN = ("Sign up for our evening newsletter and get the day's stories from the harbour and the city "
          "straight to your inbox, every weekday after six, with one click to unsubscribe.")


def page(hidden: str) -> str:
    text = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    return (f"<!DOCTYPE html><html><head><title>New ferry makes its first crossing</title></head><body>"
            f"<main><article><h1>New ferry makes its first crossing</h1>{text}{hidden}</article></main>"
            f"</body></html>")


def test_hidden_text_is_left_out_and_the_tree_is_given_back_as_it_was():
    tree = lxml.html.document_fromstring(page(f'<div class="extra" hidden><p>{HIDDEN}</p></div>after'))
    before = lxml.html.tostring(tree)
    article = extract_from_tree(tree, "https://harbour.example/news/new-ferry/")
    assert article.text.split("\n\n")[-3:] == [*PARAGRAPHS, "after"]  # the text after the hidden part stays
    assert HIDDEN not in article.text
    assert lxml.html.tostring(tree) == before


def test_parts_inside_a_hidden_part_are_put_back_once():
    tree = lxml.html.document_fromstring(
        page(f'<div hidden>a<span style="display: none">b</span>c<p aria-hidden="true">{HIDDEN}</p>d</div>e'))
    before = lxml.html.tostring(tree)
    with hidden_set_aside(tree) as shown:
        assert HIDDEN not in shown.text_content() and "ac" not in shown.text_content()
        assert shown.text_content().endswith(PARAGRAPHS[1] + "e")
    assert lxml.html.tostring(tree) == before


def test_an_article_hidden_until_a_script_shows_it_is_read():
    text = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    tree = lxml.html.document_fromstring(
        f"<html><body><div style='display:none'><article><h1>New ferry makes its first crossing</h1>{text}"
        f"</article></div></body></html>")
    article = extract_from_tree(tree, "https://harbour.example/news/new-ferry/")
    assert PARAGRAPHS[1] in article.text
