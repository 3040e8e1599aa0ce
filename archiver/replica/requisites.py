"""What the replica's pages need to render, as a Bitrix template references it: a template stylesheet whose url()
loads a background, an icon sprite and a web font (and @imports a print stylesheet), a template script, the logo,
language flags, share icons, a lazy-loaded banner (``data-src``) and thumbnails with a ``srcset``.

Everything here lives under the template's folder (``TEMPLATE``), which robots.txt allows; the CMS's own files
under ``/bitrix/`` (its cached stylesheet and core script) stay disallowed, as on the real site. :func:`serve`
answers every path below ``TEMPLATE``.
"""

from __future__ import annotations

from . import binary

TEMPLATE = "/local/templates/csto"
STYLESHEET = f"{TEMPLATE}/template_styles.css?v=3"
SCRIPT = f"{TEMPLATE}/js/script.js?v=3"
FLAGS = {"en": f"{TEMPLATE}/images/flags/en.png", "ru": f"{TEMPLATE}/images/flags/ru.png"}
SHARE = (("vk", "VK"), ("tg", "Telegram"), ("ok", "OK"))
BANNER = f"{TEMPLATE}/images/banner.png"
BLANK = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="

STYLES = f"""@import url("{TEMPLATE}/print.css") print;
@font-face {{font-family: "PT Sans"; src: url("fonts/ptsans.woff2") format("woff2"), url('fonts/ptsans.woff') format("woff");}}
body {{font-family: "PT Sans", sans-serif; background: #fff url(images/bg.png) repeat-x;}}
.header {{background: url('{TEMPLATE}/images/header.jpg') no-repeat;}}
.share a {{background-image: url(images/sprite.svg);}}
"""
FONT = b"wOF2" + bytes(60)  # a placeholder, as the replica carries no binary assets: the browser skips it


def head() -> str:
    """The template's stylesheet and script, for the page's <head>."""
    return (f'<link href="{STYLESHEET}" type="text/css" rel="stylesheet">\n'
            f'<script type="text/javascript" src="{SCRIPT}"></script>\n'
            f'<link rel="icon" href="{TEMPLATE}/images/favicon.png" type="image/png">')


def flag(lang: str) -> str:
    return f'<img class="lang-flag" src="{FLAGS[lang]}" alt="{lang.upper()}" width="16" height="11">'


def footer(page_url: str) -> str:
    """Share icons and a lazy banner, as the template's footer shows them."""
    icons = "".join(f'<a href="https://{name}.example/share?url={page_url}"><img src="{TEMPLATE}/images/share/{name}.png" '
                    f'alt="{label}" width="24" height="24"></a>' for name, label in SHARE)
    return (f'<div class="share">{icons}</div>\n'
            f'<div class="banner"><img class="lazy" src="{BLANK}" data-src="{BANNER}" alt="" width="240" '
            f'height="60"></div>')


def thumbnail_srcset(src: str) -> str:
    """A thumbnail's high-density copy, as ``srcset`` names it (the same picture, resized by the CMS)."""
    return f'{src} 1x, {src}?2x 2x'


def serve(path: str):
    """(status, body, content type) of a template file, or None for a path outside the template."""
    if not path.startswith(TEMPLATE + "/"):
        return None
    name = path.lower()
    if name.endswith("/template_styles.css"):
        return 200, STYLES.encode(), "text/css"
    if name.endswith("/print.css"):
        return 200, b"body {color: #000;}", "text/css"
    if name.endswith(".js"):
        return 200, b"document.documentElement.className += ' js';", "application/javascript"
    if name.endswith((".woff2", ".woff")):
        return 200, FONT, "font/woff2" if name.endswith("2") else "font/woff"
    if name.endswith(".svg"):
        return 200, b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"/>', "image/svg+xml"
    if name.endswith(".png"):
        return 200, binary.png(), "image/png"
    if name.endswith((".jpg", ".jpeg")):
        return 200, binary.jpeg(), "image/jpeg"
    return 404, b"<html><body>Not found</body></html>", "text/html; charset=UTF-8"
