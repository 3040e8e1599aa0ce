"""The "variant" flavour's content: what an independent author of a replica of the same site might have done.

The articles, dates, titles and traps are the classic flavour's; this module adds the variant-only roles, tags,
"Read also" lines, back-link wordings and the variant's extra URL spaces, for the pages and the ground truth.
Rendering lives in pages_variant.py.
"""

from __future__ import annotations

import datetime as dt
import zlib
from urllib.parse import quote

from . import texts
from .model import NEWEST_DATE, Article

# item -> variant-only role (items that carry no classic role)
ROLES = {2: "body_date", 6: "single_para"}
# this section's listing is paged with ?PAGEN_2=N (a second news component on its page), the others ?PAGEN_1=N
PAGEN2_SECTION = "parliamentary_assembly"

UI = {
    "en": {"more_news": "More news", "read_also": "Read also:", "tags": "Tags:", "archive": "News archive",
           "prev_day": "Previous day", "by_tag": "News tagged", "other_tags": "Other tags:", "share": "Share",
           "print": "Print version", "sep": " » ", "pages": "Pages:", "prev": "Prev", "next": "Next",
           "back": [("Go back", "Back to the section", "Back to the all news"),
                    ("« Back", "More news from this section", "To the news feed")],
           "tag_words": ["security", "terrorism", "borders", "exercises", "peacekeeping", "drugs"]},
    "ru": {"more_news": "Ещё новости", "read_also": "Читайте также:", "tags": "Теги:", "archive": "Архив новостей",
           "prev_day": "Предыдущий день", "by_tag": "Новости по тегу", "other_tags": "Другие теги:",
           "share": "Поделиться", "print": "Версия для печати", "sep": " » ", "pages": "Страницы:",
           "prev": "Пред.", "next": "След.",
           "back": [("Вернуться назад", "Назад в раздел", "Вернуться к списку новостей"),
                    ("« Назад", "Все новости раздела", "Перейти к ленте новостей")],
           "tag_words": ["безопасность", "терроризм", "границы", "учения", "миротворчество", "наркотики"]},
}


def template(art: Article) -> int:
    """0: div.news-detail-wrapper > article.b-news, date div before the title; 1: h1.page-title above the
    breadcrumbs, div.content-area with <time datetime>; 2: div.content-area, h1 inside, date in words."""
    return zlib.crc32(art.path.encode()) % 3


def shown_date(art: Article) -> str:
    """The date as the article page shows it ('' when the page shows none in its header)."""
    if not art.published or art.role == "body_date":
        return ""
    d, lang = art.published, art.language
    t = template(art)
    if t == 0:
        if lang == "ru" and "genitive_date" in art.flags:
            return f"{d.day} {texts.MONTHS_GENITIVE[d.month - 1]} {d.year} г."
        return d.strftime("%d.%m.%Y")
    if t == 1 and art.item % 2:
        return d.strftime("%d.%m.%Y")
    return words_date(d, lang)


def words_date(d: dt.date, lang: str) -> str:
    if lang == "ru":
        return f"{d.day} {texts.MONTHS_GENITIVE[d.month - 1]} {d.year}"
    return f"{texts.MONTHS_EN[d.month - 1]} {d.day}, {d.year}"


def back_texts(art: Article) -> tuple[str, str, str]:
    return UI[art.language]["back"][art.item % 2]


def back_joined(art: Article) -> bool:
    """Back links in one div.back-links with ' | ' separators (else one <p> each)."""
    return art.item % 4 in (0, 1)


def tags(art: Article) -> list[str]:
    words = UI[art.language]["tag_words"]
    out = [words[art.item % 6], words[(art.item * 7 + 3) % 6]]
    return out[:1] if out[0] == out[1] else out


def tag_href(word: str) -> str:
    return "/news/?tags=" + quote(word)


def tagged(site, lang: str, word: str) -> list[Article]:
    return [a for a in site.articles(lang) if word in tags(a)][:10]


def read_also(site, art: Article) -> list[Article]:
    """Two other articles linked under some bodies (in a div.read-also, not part of the body)."""
    if art.item % 3 != 1:
        return []
    arts = site.articles(art.language)
    i = next((i for i, a in enumerate(arts) if a is art), 0)
    return [a for a in arts[i + 1:] + arts[:i] if a.published][:2]


def read_also_line(site, art: Article) -> str:
    others = read_also(site, art)
    return (UI[art.language]["read_also"] + " " + "; ".join(a.shown_title for a in others)) if others else ""


def adjust_blocks(art: Article, blocks: list) -> list:
    """Variant-only bodies: one long paragraph; a date only in the body's first line."""
    if art.role == "single_para":
        segs: list = []
        for b in blocks:
            if b[0] == "p":
                segs += ([" "] if segs else []) + list(b[1])
        others = [b for b in blocks if b[0] not in ("p",)]
        return [("p", segs)] + others
    if art.role == "body_date" and art.published:
        return [("bodydate", art.published.strftime("%d.%m.%Y"))] + blocks
    return blocks


def optional_lines(site, art: Article) -> list[str]:
    """Lines a crawler may keep or drop: the body_date article's date line."""
    return [b[1] for b in site.blocks(art) if b[0] == "bodydate"]


def excluded(site, lang: str) -> list[tuple[str, str]]:
    """Variant-only linked URLs that must not become article rows."""
    out = [(f"/news/archive/{NEWEST_DATE.isoformat()}/", "endless archive calendar (any /news/archive/<day>/)")]
    out += [(tag_href(w), "tag filter listing") for w in UI[lang]["tag_words"]]
    return out
