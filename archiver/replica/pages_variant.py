"""HTML of the "variant" flavour: the same Bitrix site as another author might have templated it.

Same routes and content as pages.py, other markup: no `news-detail` on article pages (div.news-detail-wrapper >
article.b-news, or div.content-area), the title sometimes above the breadcrumbs, dates in div.date, <time> or
words, `news-date-time` only in the "More news" block and listings, back links with other wording, a "Read also"
line and tags after the body, listings as div.news-list-item / ul.list-news, and an endless /news/archive/<day>/.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from urllib.parse import quote

from . import announcements, texts, variant
from .boilerplate import crumb_texts
from .content import PER_PAGE, VISIBLE_SECTIONS
from .markup import Ctx, esc, filled_to_size, segments, upload_src
from .model import NEWEST_DATE, Article, format_date
from .variant import UI as VUI


def page(ctx: Ctx, title: str, main: str, side: str = "", head: str = "", charset: str = "UTF-8",
         closed: bool = True) -> str:
    ui = ctx.ui
    other = ctx.other_lang()
    switch_path = ctx.path if ctx.site.find(other, ctx.path) or not ctx.path.startswith("/news/") else "/"
    menu = "".join(f'<li class="main-menu__item"><a href="{href}">{esc(label)}</a></li>' for href, label in ui["menu"])
    ext = ctx.external_url or "https://www.un.org"
    out = f"""<!DOCTYPE html>
<html lang="{ctx.lang}">
<head>
<meta charset="{charset}">
<title>{esc(title)} - {ui["site"]}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{head}
<link href="/bitrix/templates/odkb_2019/styles.css?1571234567" rel="stylesheet">
<script src="/bitrix/js/main/jquery/jquery-1.8.3.min.js"></script>
</head>
<body>
<div class="wrapper">
<div class="top-line"><a href="{ctx.base_urls["en"]}{switch_path}">English</a> <a href="{ctx.base_urls["ru"]}{switch_path}">Русский</a></div>
<div class="header"><a class="logo" href="/"><img src="/bitrix/templates/odkb_2019/img/logo.png" alt="{ui["site"]}"></a>
 <span class="site-name">{esc(ui["org"])}</span>
 <form action="/search/"><input name="q" type="text"><input type="submit" value="{ui["search"]}"></form></div>
<ul class="main-menu">{menu}</ul>
<div class="workarea">
<div class="col-main">
{main}
</div>
{side}
</div>
<div class="footer">
 <p>{esc(ui["address"])}</p>
 <p><a href="mailto:info@odkb-csto.org">info@odkb-csto.org</a>, <a href="tel:+74956069771">+7 (495) 606-97-71</a></p>
 <p><a href="https://vk.com/odkb_csto">{esc(ui["follow"])}</a> | <a href="{ext}/partners/">{esc(ui["partners"])}</a></p>
 <p>{esc(ui["copyright"])}</p>
 <p>{esc(ui["rights"])}</p>
 <p>{esc(ui["updated"])}</p>
</div>
</div>
"""
    return out + ("</body>\n</html>\n" if closed else "")


def breadcrumbs(ctx: Ctx, section: str | None) -> str:
    hrefs = ["/", "/news/"] + ([f"/news/{section}/"] if section else [])
    links = [f'<a href="{h}" title="{esc(t)}">{esc(t)}</a>' for h, t in zip(hrefs, crumb_texts(ctx.lang, section))]
    return f'<div class="breadcrumb-navigation">{VUI[ctx.lang]["sep"].join(links)}</div>'


def more_news(ctx: Ctx, art: Article | None) -> str:
    """'More news' in the main column: per item a date line (news-date-time), a teaser and a linked title."""
    items = "".join(f"""
 <div class="more-news__item">
  <div class="news-date-time">{format_date(o.published, ctx.lang)}</div>
  <p>{esc(ctx.site.teaser(o))}</p>
  <a href="{o.path}">{esc(o.shown_title)}</a>
 </div>""" for o in ctx.site.sidebar(art, ctx.lang))
    return f'<div class="more-news">\n <h3>{VUI[ctx.lang]["more_news"]}</h3>{items}\n</div>'


def side(ctx: Ctx, with_filters: bool = False) -> str:
    ui, vui = ctx.ui, VUI[ctx.lang]
    links = [f'<a href="/news/archive/{NEWEST_DATE.isoformat()}/">{vui["archive"]}</a>',
             f'<a href="/news/calendar/?date={NEWEST_DATE.isoformat()}">{ui["calendar"]}</a>',
             f'<a href="/search/?q={quote("ОДКБ")}">#ОДКБ</a>']
    if with_filters:
        links += [f'<a href="/news/?arrFilter_DATE={d.isoformat()}&amp;set_filter=Y">{ui["filter"]} '
                  f'{format_date(d, ctx.lang)}</a>' for d in ctx.site.filter_days(ctx.lang)]
    cloud = " ".join(f'<a href="{variant.tag_href(w)}">{esc(w)}</a>' for w in vui["tag_words"])
    return ('<div class="col-side">\n' + "\n".join(f" <p>{x}</p>" for x in links)
            + f'\n <div class="tags-cloud">{cloud}</div>\n</div>')


# -------------------------------------------------------------------------------------------- article
def render_body(ctx: Ctx, art: Article) -> str:
    style = "br" if "br" in art.flags else "div" if "div" in art.flags else "p"
    parts = []
    for b in ctx.site.blocks(art):
        kind = b[0]
        if kind == "p":
            text = segments(art, ctx, b[1])
            parts.append(text + "<br>\n<br>" if style == "br" else f"<{style}>{text}</{style}>")
        elif kind == "bodydate":
            parts.append(f"<p><b>{b[1]}</b></p>")
        elif kind == "sig":
            parts.append(f'<div style="text-align:right">{esc(b[1])}</div>')
        elif kind == "img":
            _, raw, alt, cap, cap_style = b
            img = f'<img src="{esc(upload_src(raw))}" alt="{esc(alt)}" border="0">'
            if cap and cap_style == "figure":
                parts.append(f"<figure>{img}<figcaption>{esc(cap)}</figcaption></figure>")
            elif cap:  # the caption in <em> right under the image, in the same paragraph
                parts.append(f"<p>{img}<br>\n<em>{esc(cap)}</em></p>")
            else:
                parts.append(f'<p style="text-align:center">{img}</p>')
        elif kind == "table":
            rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in b[1])
            parts.append(f'<table border="1"><tbody>{rows}</tbody></table>')
        elif kind == "pdf":
            parts.append(f'<p><a href="{esc(b[1])}">{esc(b[2])}</a></p>')
        elif kind == "broken":
            p = b[1]
            head, last_word = p[1].rsplit(" ", 1)
            first_word, rest = p[2].split(" ", 1)
            parts.append(f"<p>{p[0]}\n<p>{head} <b>{last_word}\n<p>{first_word}</b> {rest}\n"
                         f"<div>{p[3]}\n<p>{p[4]}</p></div></div>")
    body = "\n".join(parts)
    return unicodedata.normalize("NFD", body) if art.role == "nfd" else body


def _date_html(art: Article) -> str:
    shown = variant.shown_date(art)
    if not shown:
        return ""
    t = variant.template(art)
    if t == 0:
        return f'<div class="date">{shown}</div>'
    if t == 1:
        return f'<time datetime="{art.published.isoformat()}">{shown}</time>'
    return f'<div class="article-info">{shown}</div>'


def _back(art: Article, section: str) -> str:
    go, sec, all_ = variant.back_texts(art)
    go_link = (f'<a href="#" onclick="history.back();return false;">{go}</a>' if art.language == "en" and art.item % 2 == 0
               else f'<a href="javascript:history.back()">{go}</a>')
    links = [go_link, f'<a href="/news/{section}/">{sec}</a>', f'<a href="/news/">{all_}</a>']
    if variant.back_joined(art):
        return '<div class="back-links">' + " | ".join(links) + "</div>"
    return "\n".join(f"<p>{x}</p>" for x in links)


def _extras(ctx: Ctx, art: Article) -> str:
    """Read also, tags, share and print: after the body, inside the article block."""
    vui = VUI[art.language]
    out = []
    others = variant.read_also(ctx.site, art)
    if others:
        links = "; ".join(f'<a href="{o.path}">{esc(o.shown_title)}</a>' for o in others)
        out.append(f'<div class="read-also"><b>{vui["read_also"]}</b> {links}</div>')
    tag_links = ", ".join(f'<a href="{variant.tag_href(w)}">{esc(w)}</a>' for w in variant.tags(art))
    out.append(f'<div class="news-tags">{vui["tags"]} {tag_links}</div>')
    out.append(f'<div class="ya-share2" data-services="vkontakte,telegram"><span>{vui["share"]}</span></div>')
    out.append(f'<a href="?print=Y" rel="nofollow">{vui["print"]}</a>')
    return "\n".join(out)


def article_page(ctx: Ctx, art: Article, section: str) -> str:
    base = ctx.base_urls[art.language]
    url = base + art.path
    title = art.shown_title
    if art.role == "nfd":
        title = unicodedata.normalize("NFD", title)
    short = title if len(title) <= 60 else title[:58].rsplit(" ", 1)[0] + "…"
    head = (f'<meta name="description" content="{esc(ctx.site.teaser(art))}">\n'
            f'<meta property="og:title" content="{esc(short)}">\n<meta property="og:url" content="{url}">')
    if len(art.sections) > 1:
        head += f'\n<link rel="canonical" href="{url}">'
    t = variant.template(art)
    picture = f'<img src="{art.detail_image}" alt="{esc(title)}" title="{esc(title)}">'
    body, extras, back = render_body(ctx, art), _extras(ctx, art), _back(art, section)
    if t == 0:
        main = f"""{breadcrumbs(ctx, section)}
<div class="news-detail-wrapper">
<article class="b-news">
 {_date_html(art)}
 <h1 class="b-news__title">{esc(title)}</h1>
 <div class="b-news__picture">{picture}</div>
 <div class="b-news__text">
{body}
 </div>
{extras}
{back}
</article>
{more_news(ctx, art)}
</div>"""
    elif t == 1:
        main = f"""<h1 class="page-title">{esc(title)}</h1>
{breadcrumbs(ctx, section)}
<div class="content-area">
 {_date_html(art)}
 <p>{picture}</p>
{body}
{extras}
{back}
</div>
{more_news(ctx, art)}"""
    else:
        main = f"""{breadcrumbs(ctx, section)}
<div class="content-area">
 <h1>{esc(title)}</h1>
 {_date_html(art)}
 <p>{picture}</p>
{body}
<div style="clear:both"></div>
{extras}
{back}
</div>
{more_news(ctx, art)}"""
    charset = "windows-1251" if art.role == "cp1251" else "UTF-8"
    return page(ctx, title, main, side(ctx), head, charset=charset, closed=art.role != "broken")


def print_page(ctx: Ctx, art: Article) -> str:
    return f"""<!DOCTYPE html>
<html lang="{art.language}"><head><meta charset="UTF-8"><title>{esc(art.shown_title)}</title></head>
<body onload="window.print()"><div class="content-area"><h1>{esc(art.shown_title)}</h1>{_date_html(art)}
<p><img src="{art.detail_image}" alt="{esc(art.shown_title)}"></p>
{render_body(ctx, art)}</div></body></html>
"""


# ------------------------------------------------------------------------------------------- listings
def _teaser(ctx: Ctx, e: dict) -> str:
    return ctx.site.teaser(e["article"]) if e["article"] else e["title"] + "."


def news_item(ctx: Ctx, e: dict) -> str:
    date = format_date(e["date"], ctx.lang) if e["date"] else ""
    return f"""<div class="news-list-item">
 <a href="{esc(e["href"])}"><img src="{e["image"]}" alt="{esc(e["title"])}"></a>
 <span class="news-date-time">{date}</span>
 <a class="news-list-item__name" href="{esc(e["href"])}"><b>{esc(e["title"])}</b></a>
 <div class="news-list-item__preview">{esc(_teaser(ctx, e))}</div>
</div>"""


def list_item(ctx: Ctx, e: dict) -> str:
    date = format_date(e["date"], ctx.lang) if e["date"] else ""
    return (f'<li><span class="date">{date}</span> <a href="{esc(e["href"])}">{esc(e["title"])}</a>'
            f'<p>{esc(_teaser(ctx, e))}</p></li>')


def pager(ctx: Ctx, path: str, param: str, current: int, pages: int) -> str:
    """Bitrix 'modern' pager without classes on the links: Prev, 1 … window … last, Next."""
    if pages <= 1:
        return ""
    vui = VUI[ctx.lang]
    href = lambda n: path if n == 1 else f"{path}?{param}={n}"
    shown = sorted({1, pages} | set(range(max(1, current - 2), min(pages, current + 2) + 1)))
    out, last = [f'<span class="modern-page-title">{vui["pages"]}</span>'], 0
    if current > 1:
        out.append(f'<a href="{href(current - 1)}">{vui["prev"]}</a>')
    for n in shown:
        if n > last + 1:
            out.append("<span>…</span>")
        out.append(f"<b>{n}</b>" if n == current else f'<a href="{href(n)}">{n}</a>')
        last = n
    if current < pages:
        out.append(f'<a href="{href(current + 1)}">{vui["next"]}</a>')
    return '<div class="modern-page-navigation">\n' + "\n".join(out) + "\n</div>"


def listing_page(ctx: Ctx, section: str | None, page_no: int) -> str:
    entries = ctx.site.listing(ctx.lang, section)
    pages = max(1, -(-len(entries) // PER_PAGE))
    page_no = min(max(page_no, 1), pages)
    path = "/news/" if section is None else f"/news/{section}/"
    title = ctx.ui["news"] if section is None else texts.SECTION_TITLES[section][ctx.lang]
    menu = " | ".join(f'<a href="/news/{s}/">{esc(texts.SECTION_TITLES[s][ctx.lang])}</a>' for s in VISIBLE_SECTIONS)
    chunk = entries[(page_no - 1) * PER_PAGE:page_no * PER_PAGE]
    if section is None:
        items = '<div class="news-list">\n' + "\n".join(news_item(ctx, e) for e in chunk) + "\n</div>"
    else:
        items = '<ul class="list-news">\n' + "\n".join(list_item(ctx, e) for e in chunk) + "\n</ul>"
    nav = pager(ctx, path, ctx.site.page_param(section), page_no, pages)
    main = f'<h1 class="page-title">{esc(title)}</h1>\n{breadcrumbs(ctx, section)}\n<p class="sections">{menu}</p>\n' \
           f'{items}\n{nav}'
    return page(ctx, title, main, side(ctx, section is None))


def simple_list_page(ctx: Ctx, title: str, arts: list[Article], extra: str = "") -> str:
    entries = [{"href": a.path, "article": a, "title": a.shown_title, "date": a.published, "image": a.preview_image}
               for a in arts]
    items = "\n".join(news_item(ctx, e) for e in entries) or f'<p>{ctx.ui["no_news"]}</p>'
    main = f'{breadcrumbs(ctx, None)}\n<h1>{esc(title)}</h1>\n<div class="news-list">\n{items}\n</div>\n{extra}'
    return page(ctx, title, main, side(ctx))


def calendar_page(ctx: Ctx, day: dt.date) -> str:
    prev = day - dt.timedelta(days=1) if day > dt.date.min else day
    link = f'<p><a href="/news/calendar/?date={prev.isoformat()}">{ctx.ui["prev_day"]}</a></p>'
    return simple_list_page(ctx, f'{ctx.ui["calendar"]}: {format_date(day, ctx.lang)}',
                            ctx.site.on_day(ctx.lang, day), link)


def archive_page(ctx: Ctx, day: dt.date) -> str:
    """/news/archive/YYYY-MM-DD/: that day's news and a 'Previous day' link, forever (not in robots.txt)."""
    prev = day - dt.timedelta(days=1) if day > dt.date.min else day
    link = f'<p class="archive-nav"><a href="/news/archive/{prev.isoformat()}/">{VUI[ctx.lang]["prev_day"]}</a></p>'
    return simple_list_page(ctx, f'{VUI[ctx.lang]["archive"]}: {variant.words_date(day, ctx.lang)}',
                            ctx.site.on_day(ctx.lang, day), link)


def tag_page(ctx: Ctx, word: str) -> str:
    """/news/?tags=<word>: that tag's news and links to every other tag."""
    vui = VUI[ctx.lang]
    others = " ".join(f'<a href="{variant.tag_href(w)}">{esc(w)}</a>' for w in vui["tag_words"] if w != word)
    return simple_list_page(ctx, f'{vui["by_tag"]} “{word}”', variant.tagged(ctx.site, ctx.lang, word),
                            f'<p class="tags-other">{vui["other_tags"]} {others}</p>')


# ----------------------------------------------------------------------------------------- odd pages
def not_found_page(ctx: Ctx, text: str | None = None) -> str:
    ui = ctx.ui
    main = (f'<h1 class="page-title">{ui["page_not_found"]}</h1>\n{breadcrumbs(ctx, None)}\n'
            f'<p>{text or ui["page_not_found_text"]}</p>\n<p><a href="/">{ui["home"]}</a></p>')
    return page(ctx, ui["page_not_found"], main)


def soft_404_page(ctx: Ctx, section: str) -> str:
    main = (f'{breadcrumbs(ctx, section)}\n<div class="content-area">\n<p><font class="errortext">'
            f'{ctx.ui["not_found"]}</font></p>\n</div>\n{more_news(ctx, None)}')
    return page(ctx, ctx.ui["news"], main, side(ctx))


def closed_page(ctx: Ctx, title: str) -> str:
    main = (f'<h1 class="page-title">{esc(title)}</h1>\n{breadcrumbs(ctx, None)}\n<div class="content-area">\n'
            f' <time datetime="2021-03-05">05.03.2021</time>\n <p>{esc(title)}.</p>\n'
            f' <p>Closed material for internal use.</p>\n</div>')
    return page(ctx, title, main, side(ctx))


def static_page(ctx: Ctx, title: str) -> str:
    ui = ctx.ui
    latest = "".join(f'<li><a href="{a.path}">{esc(a.shown_title)}</a></li>' for a in ctx.site.articles(ctx.lang)[:3])
    main = (f'<h1>{esc(title)}</h1>\n<p>{esc(ui["org"])}.</p>\n<div class="press"><a href="/?gen-tab=press">'
            f'{ui["news"]}</a><ul>{latest}</ul><a href="/news/">{ui["all_news"]}</a></div>'
            + announcements.home_box(ctx))
    return page(ctx, title, main)


def huge_page_chunks(ctx: Ctx, title: str, size: int) -> tuple[int, object]:
    return filled_to_size(page(ctx, title, f'<div class="content-area">\n<h1>{esc(title)}</h1>\n'
                                         f'<div class="date">14.05.2019</div>\n<!--FILLER-->\n</div>'), size)
