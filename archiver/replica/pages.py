"""HTML rendering of the replica's pages, modelled on the 1C-Bitrix news templates of the real site."""

from __future__ import annotations

import datetime as dt
import unicodedata
from urllib.parse import quote

from . import announcements, requisites, texts
from .content import PER_PAGE, VISIBLE_SECTIONS
from .markup import Ctx, esc, filled_to_size, segments, upload_src
from .model import NEWEST_DATE, Article, format_date


# --------------------------------------------------------------------------------------------- chrome
def page(ctx: Ctx, title: str, main: str, sidebar: str = "", head: str = "", charset: str = "UTF-8",
         closed: bool = True) -> str:
    """The full site template around the main column; `closed=False` drops </body></html> (broken page)."""
    ui = ctx.ui
    other = ctx.other_lang()
    switch_path = ctx.path if ctx.site.find(other, ctx.path) or not ctx.path.startswith("/news/") else "/"
    meta = (f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset != "UTF-8"
            else '<meta charset="UTF-8">')
    menu = "".join(f'<li><a href="{href}">{esc(label)}</a></li>' for href, label in ui["menu"])
    ext = ctx.external_url or "https://www.un.org"
    out = f"""<!DOCTYPE html>
<html lang="{ctx.lang}">
<head>
{meta}
<title>{esc(title)} | {ui["site"]}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{head}
<link href="/bitrix/cache/css/s1/csto/template_styles.css?1698765432" type="text/css" rel="stylesheet">
<script type="text/javascript" src="/bitrix/js/main/core/core.min.js?1698765432"></script>
{requisites.head()}
</head>
<body>
<div id="panel"></div>
<header class="header">
 <div class="header__top">
  <a class="header__logo" href="/"><img src="/local/templates/csto/images/logo.png" alt="{ui["site"]}" width="90" height="90"></a>
  <div class="header__name">{esc(ui["org"])}</div>
  <div class="lang-switch"><a href="{ctx.base_urls["en"]}{switch_path}"{' class="active"' * (ctx.lang == "en")}>{requisites.flag("en")}EN</a>
   <a href="{ctx.base_urls["ru"]}{switch_path}"{' class="active"' * (ctx.lang == "ru")}>{requisites.flag("ru")}RU</a></div>
  <form class="header__search" action="/search/" method="get"><input type="text" name="q" placeholder="{ui["search"]}"><button type="submit">{ui["search"]}</button></form>
 </div>
 <nav class="top-menu"><ul>{menu}</ul></nav>
</header>
<main class="content">
<div class="page-layout">
<div class="page-main">
{main}
</div>
{sidebar}
</div>
</main>
<footer class="footer">
 <div class="footer__address">{esc(ui["address"])}</div>
 <div class="footer__contacts"><a href="mailto:info@odkb-csto.org">info@odkb-csto.org</a> <a href="tel:+74956069771">+7 (495) 606-97-71</a></div>
 <div class="footer__links"><a href="https://vk.com/odkb_csto" target="_blank">{esc(ui["follow"])}</a> <a href="{ext}/partners/">{esc(ui["partners"])}</a></div>
 <div class="footer__copy">{esc(ui["copyright"])}</div>
 <div class="footer__rights">{esc(ui["rights"])}</div>
 <div class="footer__updated">{esc(ui["updated"])}</div>
 {requisites.footer(ctx.base_urls[ctx.lang] + ctx.path)}
 <script>(function(m,e,t,r,i,k,a){{m[i]=m[i]||function(){{(m[i].a=m[i].a||[]).push(arguments)}};}})(window,document,"script","","ym");</script>
 <noscript><div><img src="https://mc.yandex.ru/watch/12345678" style="position:absolute; left:-9999px;" alt=""></div></noscript>
</footer>
"""
    return out + ("</body>\n</html>\n" if closed else "")


def breadcrumbs(ctx: Ctx, section: str | None) -> str:
    ui = ctx.ui
    crumbs = f'<a href="/">{ui["home"]}</a> / <a href="/news/">{ui["news"]}</a>'
    if section and section != texts.HOME_ONLY_SECTION:  # a section no breadcrumb names (replica/announcements.py)
        crumbs += f' / <a href="/news/{section}/">{esc(texts.SECTION_TITLES[section][ctx.lang])}</a>'
    return f'<div class="breadcrumbs">{crumbs}</div>'


def date_line(art: Article) -> str:
    return format_date(art.published, art.language, "genitive_date" in art.flags) if art.published else ""


def sidebar(ctx: Ctx, art: Article | None) -> str:
    items = []
    for other in ctx.site.sidebar(art, ctx.lang):
        items.append(f"""  <div class="sidebar-news__item">
   <div class="sidebar-news__date">{date_line(other)}</div>
   <a href="{other.path}"><img class="sidebar-news__thumb" src="{other.preview_image}" srcset="{requisites.thumbnail_srcset(other.preview_image)}" alt=""></a>
   <p class="sidebar-news__text"><a href="{other.path}">{esc(ctx.site.teaser(other))}</a></p>
  </div>""")
    return (f'<div class="sidebar">\n <div class="sidebar__title">{ctx.ui["other_news"]}</div>\n'
            f' <div class="sidebar-news">\n' + "\n".join(items) + "\n </div>\n</div>")


# -------------------------------------------------------------------------------------------- article
def render_body(ctx: Ctx, art: Article) -> str:
    style = "br" if "br" in art.flags else "div" if "div" in art.flags else "p"
    parts = []
    for b in ctx.site.blocks(art):
        kind = b[0]
        if kind == "p":
            text = segments(art, ctx, b[1])
            parts.append(text + "<br>\n<br>" if style == "br" else f"<{style}>{text}</{style}>")
        elif kind == "sig":
            parts.append(f'<p style="text-align: right;"><b>{esc(b[1])}</b></p>')
        elif kind == "img":
            _, raw, alt, cap, cap_style = b
            img = f'<img src="{esc(upload_src(raw))}" alt="{esc(alt)}" title="{esc(alt)}" width="600" height="400">'
            if cap_style == "figure":
                parts.append(f"<figure>{img}<figcaption>{esc(cap)}</figcaption></figure>")
            else:
                parts.append(f'<p style="text-align: center;">{img}</p>')
                if cap:
                    parts.append(f'<p class="photo-caption">{esc(cap)}</p>')
        elif kind == "table":
            rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in b[1])
            parts.append(f'<table class="table" border="1" cellpadding="4"><tbody>{rows}</tbody></table>')
        elif kind == "pdf":
            parts.append(f'<p><a class="file-link" href="{esc(b[1])}" target="_blank">{esc(b[2])}</a></p>')
        elif kind == "broken":
            p = b[1]  # unclosed <p>/<div>, raw '&', a <b> across paragraphs, one stray </div>
            head, last_word = p[1].rsplit(" ", 1)
            first_word, rest = p[2].split(" ", 1)
            parts.append(f"<p>{p[0]}\n<p>{head} <b>{last_word}\n<p>{first_word}</b> {rest}\n"
                         f"<div>{p[3]}\n<p>{p[4]}</p></div></div>")
    body = "\n".join(parts)
    return unicodedata.normalize("NFD", body) if art.role == "nfd" else body


def article_page(ctx: Ctx, art: Article, section: str) -> str:
    ui = ctx.ui
    base = ctx.base_urls[art.language]
    url = base + art.path
    title = art.shown_title
    if art.role == "nfd":  # the CMS stored this element decomposed, so every copy of its text is NFD
        title = unicodedata.normalize("NFD", title)
    short = title if len(title) <= 60 else title[:58].rsplit(" ", 1)[0] + "…"
    h1 = esc(title)
    head = (f'<meta name="description" content="{esc(ctx.site.teaser(art))}">\n'
            f'<meta property="og:title" content="{esc(short)}">\n<meta property="og:type" content="article">\n'
            f'<meta property="og:url" content="{url}">\n<meta property="og:image" content="{base}{art.detail_image}">')
    if len(art.sections) > 1:
        head += f'\n<link rel="canonical" href="{url}">'
    date_html = f'<span class="news-date-time">{date_line(art)}</span>' if art.published else ""
    share = "".join(f'<a href="{u}{quote(url, safe="")}" target="_blank" rel="nofollow"><img src="/local/templates/'
                    f'csto/images/share/{n}.svg" alt="{n.upper()}"></a>' for u, n in
                    (("https://vk.com/share.php?url=", "vk"), ("https://t.me/share/url?url=", "tg"),
                     ("https://connect.ok.ru/offer?url=", "ok")))
    main = f"""{breadcrumbs(ctx, section)}
<div class="news-detail">
 <h1 class="news-detail__title">{h1}</h1>
 {date_html}
 <img class="detail_picture" border="0" src="{art.detail_image}" width="800" height="533" alt="{esc(title)}" title="{esc(title)}">
{render_body(ctx, art)}
 <div style="clear:both"></div>
 <div class="news-detail-share"><span class="news-detail-share__label">{ui["share"]}</span>{share}</div>
 <a class="news-detail-print" href="?print=Y" rel="nofollow">{ui["print"]}</a>
 <div class="news-detail-back">
  <p><a href="javascript:history.back()">{ui["go_back"]}</a></p>
  <p><a href="/news/{section}/">{ui["back_section"]}</a></p>
  <p><a href="/news/">{ui["back_all"]}</a></p>
 </div>
</div>"""
    charset = "windows-1251" if art.role == "cp1251" else "UTF-8"
    return page(ctx, title, main, sidebar(ctx, art), head, charset=charset, closed=art.role != "broken")


def print_page(ctx: Ctx, art: Article) -> str:
    """Bitrix print version: the same article in a bare template."""
    date_html = f'<span class="news-date-time">{date_line(art)}</span>' if art.published else ""
    return f"""<!DOCTYPE html>
<html lang="{art.language}"><head><meta charset="UTF-8"><title>{esc(art.shown_title)} | {ctx.ui["site"]}</title></head>
<body class="print-version"><img src="/local/templates/csto/images/logo.png" alt="">
<div class="news-detail"><h1>{esc(art.shown_title)}</h1>{date_html}
<img class="detail_picture" src="{art.detail_image}" alt="{esc(art.shown_title)}">
{render_body(ctx, art)}</div>
<script>window.print();</script></body></html>
"""


# ------------------------------------------------------------------------------------------- listings
def news_item(ctx: Ctx, e: dict) -> str:
    date = format_date(e["date"], ctx.lang) if e["date"] else ""
    teaser = ctx.site.teaser(e["article"]) if e["article"] else e["title"] + "."
    return f"""<div class="news-item">
 <div class="news-date-time">{date}</div>
 <a class="news-item__image" href="{esc(e["href"])}"><img class="preview_picture" src="{e["image"]}" alt="{esc(e["title"])}" width="300" height="200"></a>
 <a class="news-item__title" href="{esc(e["href"])}">{esc(e["title"])}</a>
 <p class="news-item__text">{esc(teaser)}</p>
</div>"""


def pager(ctx: Ctx, path: str, current: int, pages: int) -> str:
    """Bitrix 'modern' pager: page 1 is the bare URL, a window of 5 numbers, Prev/Next and First/Last."""
    if pages <= 1:
        return ""
    ui = ctx.ui
    href = lambda n: path if n == 1 else f"{path}?PAGEN_1={n}"
    lo = max(1, min(current - 2, pages - 4))
    nums = []
    for n in range(lo, min(pages, lo + 4) + 1):
        nums.append(f'<span class="modern-page-current">{n}</span>' if n == current else
                    f'<a href="{href(n)}" class="modern-page-num">{n}</a>')
    out = [f'<span class="modern-page-title">{ui["pages"]}</span>']
    if current > 1:
        out += [f'<a href="{href(1)}" class="modern-page-first">{ui["first"]}</a>',
                f'<a href="{href(current - 1)}" class="modern-page-previous">{ui["prev"]}</a>']
    out += nums
    if current < pages:
        out += [f'<a href="{href(current + 1)}" class="modern-page-next">{ui["next"]}</a>',
                f'<a href="{href(pages)}" class="modern-page-last">{ui["last"]}</a>']
    return '<div class="modern-page-navigation">\n' + "\n".join(out) + "\n</div>"


def listing_sidebar(ctx: Ctx, with_filters: bool) -> str:
    ui = ctx.ui
    links = [f'<a href="/news/calendar/?date={NEWEST_DATE.isoformat()}">{ui["calendar"]}</a>',
             f'<a href="/search/?q={quote("ОДКБ")}">#ОДКБ</a>']
    if with_filters:
        links += [f'<a href="/news/?arrFilter_DATE={d.isoformat()}&amp;set_filter=Y">{ui["filter"]} '
                  f'{format_date(d, ctx.lang)}</a>' for d in ctx.site.filter_days(ctx.lang)]
    return '<div class="sidebar sidebar--news">\n' + "\n".join(f" <p>{x}</p>" for x in links) + "\n</div>"


def listing_page(ctx: Ctx, section: str | None, page_no: int) -> str:
    """All news (section None) or one section; a page past the end shows the last page (Bitrix behaviour)."""
    entries = ctx.site.listing(ctx.lang, section)
    pages = max(1, -(-len(entries) // PER_PAGE))
    page_no = min(max(page_no, 1), pages)
    path = "/news/" if section is None else f"/news/{section}/"
    title = ctx.ui["news"] if section is None else texts.SECTION_TITLES[section][ctx.lang]
    menu = "".join(f'<li><a href="/news/{s}/">{esc(texts.SECTION_TITLES[s][ctx.lang])}</a></li>'
                   for s in VISIBLE_SECTIONS)
    items = "\n".join(news_item(ctx, e) for e in entries[(page_no - 1) * PER_PAGE:page_no * PER_PAGE])
    main = (f'{breadcrumbs(ctx, section)}\n<h1>{esc(title)}</h1>\n<ul class="news-sections">{menu}</ul>\n'
            f'<div class="news-list">\n{items}\n</div>\n{pager(ctx, path, page_no, pages)}')
    return page(ctx, title, main, listing_sidebar(ctx, section is None))


def simple_list_page(ctx: Ctx, title: str, arts: list[Article], extra: str = "") -> str:
    """Calendar days, filter results and search results: plain lists of article links."""
    entries = [{"href": a.path, "article": a, "title": a.shown_title, "date": a.published, "image": a.preview_image}
               for a in arts]
    items = "\n".join(news_item(ctx, e) for e in entries) or f'<p>{ctx.ui["no_news"]}</p>'
    main = f'{breadcrumbs(ctx, None)}\n<h1>{esc(title)}</h1>\n<div class="news-list">\n{items}\n</div>\n{extra}'
    return page(ctx, title, main, listing_sidebar(ctx, False))


def calendar_page(ctx: Ctx, day: dt.date) -> str:
    prev = day - dt.timedelta(days=1) if day > dt.date.min else day
    link = f'<p class="calendar-nav"><a href="/news/calendar/?date={prev.isoformat()}">{ctx.ui["prev_day"]}</a></p>'
    return simple_list_page(ctx, f'{ctx.ui["calendar"]}: {format_date(day, ctx.lang)}', ctx.site.on_day(ctx.lang, day),
                            link)


# ----------------------------------------------------------------------------------------- odd pages
def not_found_page(ctx: Ctx, text: str | None = None) -> str:
    ui = ctx.ui
    main = (f'{breadcrumbs(ctx, None)}\n<h1>{ui["page_not_found"]}</h1>\n<p>{text or ui["page_not_found_text"]}</p>'
            f'\n<p><a href="/">{ui["home"]}</a></p>')
    return page(ctx, ui["page_not_found"], main)


def soft_404_page(ctx: Ctx, section: str) -> str:
    """Bitrix news.detail with a missing element: 200, full template, only an error text."""
    main = (f'{breadcrumbs(ctx, section)}\n<div class="news-detail">\n <font class="errortext">'
            f'{ctx.ui["not_found"]}</font>\n</div>')
    return page(ctx, ctx.ui["news"], main, sidebar(ctx, None))


def closed_page(ctx: Ctx, title: str) -> str:
    """An article-looking page under a robots.txt-disallowed path."""
    main = (f'{breadcrumbs(ctx, None)}\n<div class="news-detail">\n <h1>{esc(title)}</h1>\n <span class="news-date-time">'
            f'05.03.2021</span>\n <p>{esc(title)}.</p>\n <p>Closed material for internal use.</p>\n</div>')
    return page(ctx, title, main, sidebar(ctx, None))


def static_page(ctx: Ctx, title: str) -> str:
    ui = ctx.ui
    latest = "".join(f'<li><a href="{a.path}">{esc(a.shown_title)}</a></li>'
                     for a in ctx.site.articles(ctx.lang)[:3])
    main = (f'<h1>{esc(title)}</h1>\n<p>{esc(ui["org"])}.</p>\n<div class="press-tabs"><a href="/?gen-tab=press">'
            f'{ui["news"]}</a><ul>{latest}</ul><a href="/news/">{ui["all_news"]}</a></div>'
            + announcements.home_box(ctx))
    return page(ctx, title, main)


def huge_page_chunks(ctx: Ctx, title: str, size: int) -> tuple[int, object]:
    """(content length, iterator of byte chunks) of an article-looking page of about `size` bytes."""
    return filled_to_size(page(ctx, title, f'<div class="news-detail">\n<h1>{esc(title)}</h1>\n'
                                         f'<span class="news-date-time">14.05.2019</span>\n<!--FILLER-->\n</div>'), size)
