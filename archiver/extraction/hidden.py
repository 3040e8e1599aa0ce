"""Parts of a page hidden from its readers, set aside while the article's text is read.

A page carries text nobody sees until a script shows it, or never: a menu folded into a ``display:none``
block, a copy of the header kept for screen readers hidden from them (``aria-hidden``), a template's
``hidden`` dialog. trafilatura reads the markup, not what is shown, so such text ends up in the article's.
Readers' browsers decide visibility from the same attributes, so they are a generic sign.

A hidden part holding an ``<h1>`` or an ``<article>`` is left in place: that is the article itself,
waiting for a script to show it (a paywall's or a lazy template's), and it is what a reader comes to read.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from lxml import etree

# Elements that may be hidden: the cheap attribute tests in XPath, the style read in Python (translate() and
# contains() on every element's style cost twice as much).
MAY_BE_HIDDEN = etree.XPath("descendant::*[@hidden or @aria-hidden or @style]")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# What a hidden part must not hold to be set aside: the article itself.
ARTICLE_INSIDE = etree.XPath("boolean(.//h1 | .//article)")


@contextmanager
def hidden_set_aside(tree):
    """Within the block, ``tree`` has no hidden parts (see the module's doc); on leaving it, each is back
    where it was, with its tail text, so the tree is as it was given."""
    placeholders, set_aside = [], set()
    try:
        for node in _hidden(tree):  # in document order: a part before the parts inside it
            if ARTICLE_INSIDE(node) or node.getparent() is None:
                continue
            if set_aside and any(id(ancestor) in set_aside for ancestor in node.iterancestors()):
                continue  # inside a part already set aside
            placeholder = node.makeelement("span")  # an empty inline element holds the text after it
            placeholder.tail = node.tail
            node.getparent().replace(node, placeholder)
            placeholders.append((placeholder, node))
            set_aside.add(id(node))
        yield tree
    finally:
        for placeholder, node in reversed(placeholders):
            placeholder.getparent().replace(placeholder, node)


def _hidden(tree) -> list:
    body = tree.find("body") if tree.tag != "body" else tree
    if body is None:
        return []
    return [node for node in MAY_BE_HIDDEN(body) if node.get("hidden") is not None
            or node.get("aria-hidden") == "true" or HIDDEN_STYLE.search(node.get("style") or "")]
