"""The replica's site model: articles, listings, traps, mutations and the ground truth."""

from __future__ import annotations

import datetime as dt
import threading
import time
import unicodedata
import uuid
from urllib.parse import urljoin

from w3lib.url import safe_url_string

from . import boilerplate, model, texts, variant
from .model import Article

PER_PAGE = 10
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
MIN_ARTICLES = 34
FLAVOURS = ("classic", "variant")
SECTION_SLUGS = [s[0] for s in texts.SECTIONS]
VISIBLE_SECTIONS = [s[0] for s in texts.SECTIONS if s[3]]

# item id -> role; odd ids from 3 up, so they are spread over the newest ~30 elements
ROLES = ["flaky", "slow", "undated", "broken", "cp1251", "nfd", "table", "pdf", "two_sections", "redirect_target",
         "utm", "sphrase", "index_php", "no_slash", "fragment", "sitemap_only"]
ROLE_ITEMS = {3 + 2 * i: role for i, role in enumerate(ROLES)}
HIDDEN_ITEM = 4  # guarantees the hidden section is never empty
HOME_ONLY_ITEMS = (8, 10)  # the home-only section's elements: not among the sidebar's five newest
VARIANT_SUFFIX = {"utm": "?utm_source=telegram&utm_medium=social", "sphrase": "?sphrase_id=12345",
                  "index_php": "index.php", "no_slash": None, "fragment": "#photo"}

# linked non-articles: kind -> (path, English title, Russian title); placed in listings by position
TRAPS = {
    "not_found": ("/news/news_odkb/vstrecha-generalnogo-sekretarya-odkb-s-poslom-respubliki-armeniya/",
                  "Meeting of the CSTO Secretary General with the Ambassador of Armenia",
                  "Встреча Генерального секретаря ОДКБ с послом Республики Армения"),
    "gone": ("/news/news_odkb/zayavlenie-ministrov-inostrannykh-del-2016/",
             "Statement of the Ministers of Foreign Affairs (2016)", "Заявление министров иностранных дел (2016)"),
    "soft_404": ("/news/news_odkb/itogi-sessii-parlamentskoy-assamblei-odkb-v-sankt-peterburge/",
                 "Results of the PA CSTO session in Saint Petersburg",
                 "Итоги сессии Парламентской Ассамблеи ОДКБ в Санкт-Петербурге"),
    "error_500": ("/news/news_secretariat/sovmestnoe-zasedanie-kollegiy-sekretariata-i-obedinennogo-shtaba/",
                  "Joint meeting of the boards of the Secretariat and the Joint Staff",
                  "Совместное заседание коллегий Секретариата и Объединённого штаба"),
    "huge": ("/news/news_odkb/polnyy-tekst-stenogrammy-zasedaniya-soveta-kollektivnoy-bezopasnosti/",
             "Full transcript of the Collective Security Council meeting",
             "Полный текст стенограммы заседания Совета коллективной безопасности"),
    "empty": ("/news/news_secretariat/anons-brifinga-press-sekretarya-odkb/",
              "Announcement of the CSTO Press Secretary briefing", "Анонс брифинга пресс-секретаря ОДКБ"),
    "binary": ("/news/news_secretariat/fotoreportazh-s-ucheniya-vzaimodeystvie/",
               "Photo report from the exercise “Interaction”", "Фоторепортаж с учения «Взаимодействие»"),
    "closed": ("/news/closed/soveshchanie-rukovoditeley-spetssluzhb/",
               "Meeting of the heads of special services", "Совещание руководителей спецслужб"),
    "loop": ("/news/loop-a/", "Archive of announcements", "Архив анонсов"),
}
TRAP_BY_PATH = {v[0]: k for k, v in TRAPS.items()}
# (listing section or None for all news, position in that listing's stream, trap kind)
TRAP_PLACES = [(None, 1, "not_found"), (None, 4, "old_redirect"), (None, 7, "soft_404"), (None, 12, "error_500"),
               (None, 15, "huge"), (None, 18, "empty"), (None, 22, "binary"), (None, 25, "closed"),
               (None, 28, "loop"), ("news_odkb", 3, "gone")]


class ReplicaSite:
    """A deterministic two-language Bitrix news site; cheap to build, pages are rendered on request."""

    def __init__(self, articles_per_language: int = 60, seed: int = 1, flavour: str = "classic"):
        if articles_per_language < MIN_ARTICLES:
            raise ValueError(f"articles_per_language must be at least {MIN_ARTICLES}")
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}")
        self.flavour = flavour  # "classic", or "variant": other markup and wording (pages_variant.py)
        self.articles_per_language = articles_per_language
        self.seed = seed
        self._lock = threading.RLock()
        self._lists: dict[str, list[Article]] | None = None   # per language, newest first (built lazily)
        self._by_path: dict[tuple[str, str], tuple[Article, str]] = {}
        self._vars: dict[int, dict] = {}
        self._listing_cache: dict = {}
        self.version = 0  # bumped by every change of the site: rendered pages of an older version are stale
        self._added = 0
        self._slugs: set[str] = set()
        self._slug_next: dict[str, int] = {}

    # ----------------------------------------------------------------------------------------- building
    def _build(self) -> dict[str, list[Article]]:
        with self._lock:
            if self._lists is not None:
                return self._lists
            n = self.articles_per_language
            real_dates = {dt.date(*a["date"]) for a in texts.REAL_ARTICLES}
            dates = model.generated_dates(n - len(texts.REAL_ARTICLES), real_dates, self.seed)
            lists: dict[str, list[Article]] = {"en": [], "ru": []}
            for item in range(n):
                real = texts.REAL_ARTICLES[item] if item < len(texts.REAL_ARTICLES) else None
                day = dt.date(*real["date"]) if real else dates[item - len(texts.REAL_ARTICLES)]
                for art in self._make_item(item, day, real, ("en", "ru")):
                    lists[art.language].append(art)
            for arts in lists.values():
                arts.sort(key=lambda a: a.order_date, reverse=True)
                for art in arts:
                    if self.flavour == "variant" and art.item in variant.ROLES:
                        art.role = variant.ROLES[art.item]
            self._lists = lists
            return lists

    def _make_item(self, item, day, real, languages, section=None) -> list[Article]:
        r = model.rng_for(self.seed, "item", item)
        v = model.make_vars(r, day)
        self._vars[item] = v
        role = ROLE_ITEMS.get(item, "") if section is None else ""
        if real:
            en_title, ru_title, section = real["en_title"], real["ru_title"], real["section"]
        else:
            en_title, ru_title = model.make_titles(v)
        if section is None:
            if item == HIDDEN_ITEM:
                section = texts.HIDDEN_SECTION
            elif item in HOME_ONLY_ITEMS:
                section = texts.HOME_ONLY_SECTION
            elif role:  # variant and duplicate roles need a section that is listed in menus
                section = VISIBLE_SECTIONS[item % len(VISIBLE_SECTIONS)]
            else:
                x = r.random()  # weights 4:3:2:1
                section = SECTION_SLUGS[(x >= 0.4) + (x >= 0.7) + (x >= 0.9)]
        sections = (section,)
        if role == "two_sections":
            sections = ("news_odkb", "parliamentary_assembly")
        slug = base = model.slugify(ru_title)
        k = self._slug_next.get(base, 1)
        while slug in self._slugs:  # Bitrix appends a counter to a duplicate element code
            k += 1
            slug = f"{base}-{k}"
        self._slug_next[base] = k
        self._slugs.add(slug)
        path = f"/news/{sections[0]}/{slug}/"
        h = "%032x" % r.getrandbits(128)
        hx = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"  # a version-4 style uuid
        out = []
        for lang in languages:
            flags = {"p" if real else r.choice(("p", "p", "p", "br", "div"))}
            if (real["signature"] if real else r.random() < 0.6):
                flags.add("signature")
            if r.random() < 0.4:
                flags.add("nbsp_entity")
            if lang == "ru" and (item % 6 == 2 or role == "cp1251"):
                flags.add("genitive_date")
            art_role = role if (role not in ("cp1251", "nfd") or lang == "ru") else ""
            art = Article(key=f"{lang}:{path}", language=lang, item=item, path=path, sections=sections,
                          title=en_title if lang == "en" else ru_title, order_date=day, role=art_role,
                          flags=frozenset(flags), real=real,
                          detail_image=real["image"] if real else f"/upload/iblock/{h[:3]}/{hx}.jpg",
                          preview_image=f"/upload/resize_cache/iblock/{h[:3]}/300_200_2/{hx}.jpg",
                          modified=(day.toordinal() - EPOCH_ORDINAL) * 86400 + 43200)
            out.append(art)
            self._by_path[(lang, path)] = (art, sections[0])
            for extra in sections[1:]:
                self._by_path[(lang, f"/news/{extra}/{slug}/")] = (art, extra)
        return out

    # ---------------------------------------------------------------------------------------- lookups
    def articles(self, language: str) -> list[Article]:
        """Live articles of one language, newest first."""
        return [a for a in self._build()[language] if not a.deleted]

    def find(self, language: str, path: str) -> tuple[Article, str] | None:
        """(article, section it is served under) for a path, including deleted ones."""
        self._build()
        return self._by_path.get((language, path))

    def article(self, key: str) -> Article:
        lang, path = key.split(":", 1)
        found = self.find(lang, path)
        if not found:
            raise KeyError(key)
        return found[0]

    def blocks(self, art: Article) -> list:
        """Body blocks of an article (generated on first use, edits applied)."""
        if art._blocks is None:
            v = self._vars[art.item]
            if art.real:
                paras = art.real[art.language]
                blocks = [("p", [p]) for p in paras]
                if art.real["body_image"] and art.language == "en":
                    pos, src = art.real["body_image"]
                    blocks.insert(pos, ("img", src, "", None, None))
                if "signature" in art.flags:
                    blocks.append(("sig", texts.UI[art.language]["signature"]))
            else:
                blocks = model.special_body(art, v) or model.generate_body(self.seed, art, v)
            if self.flavour == "variant":
                blocks = variant.adjust_blocks(art, blocks)
            if art.edits:
                i = next(i for i, b in enumerate(blocks) if b[0] == "p")
                suffix = texts.UI[art.language]["edited_para"] * art.edits
                blocks[i] = ("p", list(blocks[i][1]) + [suffix])
            if art.body_edits:  # an "Updated on ..." paragraph at the end, the listing entry unchanged
                blocks = blocks + [("p", [texts.UI[art.language]["edited_para"].strip() + f" ({art.body_edits})"])]
            art._blocks = blocks
        return art._blocks

    def teaser(self, art: Article) -> str:
        """Preview text: the first sentence of the body, cut like Bitrix's auto preview."""
        first = next((b for b in self.blocks(art) if b[0] in ("p", "broken")), None)
        text = first[1][0] if first and isinstance(first[1][0], str) else art.title
        return text if len(text) <= 140 else text[:139].rsplit(" ", 1)[0] + "…"

    def listing(self, language: str, section: str | None) -> list[dict]:
        """The full entry stream of a listing (all news or one section), traps included, newest first."""
        with self._lock:
            key = (language, section)
            if key in self._listing_cache:
                return self._listing_cache[key]
            entries = []
            for art in self.articles(language):
                if section is not None and section not in art.sections or art.role == "sitemap_only":
                    continue  # another section's, or an article only the sitemap shows (replica/sitemaps.py)
                if section is None and art.sections[0] == texts.HOME_ONLY_SECTION:
                    continue  # reached only from the home pages (replica/announcements.py)
                href = art.path if section in (None, art.sections[0]) else f"/news/{section}/{art.path.split('/')[3]}/"
                if section is None and art.role in VARIANT_SUFFIX:
                    suffix = VARIANT_SUFFIX[art.role]
                    href = art.path.rstrip("/") if suffix is None else art.path + suffix
                entries.append({"href": href, "article": art, "title": art.shown_title,
                                "date": art.published, "image": art.preview_image})
            for sec, pos, kind in TRAP_PLACES:
                if sec == section:
                    pos = min(pos, len(entries))
                    near = entries[pos - 1]["date"] if entries else None
                    entries.insert(pos, self._trap_entry(language, kind, near))
            self._listing_cache[key] = entries
            return entries

    def _trap_entry(self, language: str, kind: str, near: dt.date | None) -> dict:
        if kind == "old_redirect":
            target = next(a for a in self.articles(language) if a.role == "redirect_target")
            return {"href": f"/news/old/{target.item + 1000}/", "article": target, "title": target.shown_title,
                    "date": target.published, "image": target.preview_image}
        path, en, ru = TRAPS[kind]
        hx = uuid.uuid5(uuid.NAMESPACE_URL, path)
        return {"href": path, "article": None, "title": en if language == "en" else ru, "date": near,
                "image": f"/upload/iblock/{hx.hex[:3]}/{hx}.jpg"}

    def old_redirect_target(self, number: int) -> str | None:
        """Path a /news/old/<number>/ URL redirects to."""
        found = [a for a in self.articles("en") if a.item + 1000 == number]
        return found[0].path if found else None

    def on_day(self, language: str, day: dt.date) -> list[Article]:
        return [a for a in self.articles(language) if a.published == day]

    def sidebar(self, art_or_none: Article | None, language: str) -> list[Article]:
        """'Other news': the five newest dated articles other than the current one."""
        return [a for a in self.articles(language) if a is not art_or_none and a.published
                and a.sections[0] != texts.HOME_ONLY_SECTION][:5]

    # -------------------------------------------------------------------------------------- mutations
    def add_article(self, language: str = "en", section: str = "news_odkb") -> str:
        """Publish a new article (newest date) at the top of its listings; returns its key."""
        with self._lock:
            lists = self._build()
            newest = max(a.order_date for arts in lists.values() for a in arts)
            item = self.articles_per_language + self._added + 100000
            (art,) = self._make_item(item, newest + dt.timedelta(days=1), None, (language,), section=section)
            art.modified = time.time()
            lists[language].insert(0, art)
            self._added += 1
            self._listing_cache = {}
            self.version += 1
            return art.key

    def edit_article(self, key: str) -> None:
        """Change the title slightly and one body paragraph."""
        with self._lock:
            art = self.article(key)
            art.edits += 1
            art._blocks = None
            art.modified = max(time.time(), art.modified + 1)
            self._listing_cache = {}
            self.version += 1

    def edit_body(self, key: str) -> None:
        """Change the body only (a paragraph added): its page's ETag and Last-Modified change, its title, date and
        listing entry do not, so only a revisit of the article finds the edit."""
        with self._lock:
            art = self.article(key)
            art.body_edits += 1
            art._blocks = None
            art.modified = max(time.time(), art.modified + 1)
            self.version += 1

    def delete_article(self, key: str, soft_404: bool = False) -> None:
        """The URL then answers 404 (or, ``soft_404``, 200 with a "not found" page, as Bitrix does with
        ``SET_STATUS_404=N``) and the article disappears from listings."""
        with self._lock:
            self.article(key).deleted = "soft_404" if soft_404 else True
            self._listing_cache = {}
            self.version += 1

    def keys(self, language: str) -> list[str]:
        return [a.key for a in self.articles(language)]

    # ----------------------------------------------------------------------------------- ground truth
    def ground_truth(self, base_urls: dict[str, str]) -> list[dict]:
        """One record per article a perfect crawler archives.

        Fields: url, language, title, published (ISO or None), section, section_url, section_title, paragraphs
        (NFC, NBSP as space, collapsed; signature and the PDF link text included; captions and tables excluded),
        captions, images (detail picture first; src as safe_url_string(urljoin(url, raw src))), tables (rows of
        cells), boilerplate (page lines that must not be extracted), role (the nastiness it carries, or None).
        The variant flavour adds optional_lines (lines a crawler may keep or drop: the date line that opens the
        body of its "body_date" article, whose published date is that date).
        """
        boilerplate_lines = boilerplate.variant_lines if self.flavour == "variant" else boilerplate.classic_lines
        out = []
        for lang in ("en", "ru"):
            base = base_urls[lang]
            for art in self.articles(lang):
                url = base + art.path
                paragraphs, captions, images, tables = [], [], [], []
                images.append({"src": safe_url_string(urljoin(url, art.detail_image)), "alt": clean(art.shown_title),
                               "caption": None})
                for b in self.blocks(art):
                    if b[0] == "p":
                        paragraphs.append(clean("".join(s if isinstance(s, str) else s[2] for s in b[1])))
                    elif b[0] in ("sig",):
                        paragraphs.append(clean(b[1]))
                    elif b[0] == "pdf":
                        paragraphs.append(clean(b[2]))
                    elif b[0] == "broken":
                        paragraphs.extend(clean(p) for p in b[1])
                    elif b[0] == "table":
                        tables.append([[clean(c) for c in row] for row in b[1]])
                    elif b[0] == "img":
                        cap = clean(b[3]) if b[3] else None
                        images.append({"src": safe_url_string(urljoin(url, b[1])), "alt": clean(b[2]),
                                       "caption": cap})
                        if cap:
                            captions.append(cap)
                text = "\n".join([clean(art.shown_title)] + paragraphs + captions)
                sec = art.sections[0]
                out.append({
                    "url": url, "language": lang, "title": clean(art.shown_title),
                    "published": art.published.isoformat() if art.published else None,
                    "section": sec, "section_url": f"{base}/news/{sec}/",
                    "section_title": texts.SECTION_TITLES[sec][lang], "paragraphs": paragraphs,
                    "captions": captions, "images": images, "tables": tables,
                    "boilerplate": [ln for ln in boilerplate_lines(self, art) if ln not in text],
                    "role": art.role or None,
                })
                if self.flavour == "variant":
                    out[-1]["optional_lines"] = variant.optional_lines(self, art)
        return out

    def ground_truth_excluded(self, base_urls: dict[str, str], external_url: str | None = None) -> list[dict]:
        """Every linked URL that must not become an article row, with the reason."""
        out = []
        for lang in ("en", "ru"):
            b = base_urls[lang]
            add = lambda path, reason, canonical=None: out.append(
                {"url": b + path, "language": lang, "reason": reason, **({"canonical": b + canonical}
                                                                         if canonical else {})})
            reasons = {"not_found": "404", "gone": "410", "soft_404": "soft 404 (200 'not found' page)",
                       "error_500": "always 500", "huge": "larger than any sane size cap", "empty": "empty body",
                       "binary": "binary bytes served as text/html", "closed": "disallowed by robots.txt",
                       "loop": "redirect loop"}
            for kind, reason in reasons.items():
                add(TRAPS[kind][0], reason)
            add("/news/loop-b/", "redirect loop")
            target = next(a for a in self.articles(lang) if a.role == "redirect_target")
            add(f"/news/old/{target.item + 1000}/", "redirect (301) to the redirect script", target.path)
            add(f"/news/redirect/?to={target.path.replace('/', '%2F')}", "redirect (302) to the article", target.path)
            for art in self.articles(lang):
                add(art.path + "?print=Y", "print version", art.path)
                if art.role in VARIANT_SUFFIX:
                    s = VARIANT_SUFFIX[art.role]
                    add(art.path.rstrip("/") if s is None else art.path + s, f"URL variant ({art.role})", art.path)
                for extra in art.sections[1:]:
                    add(f"/news/{extra}/{art.path.split('/')[3]}/", "second-section duplicate (canonical)", art.path)
            for art in self._build()[lang]:
                if art.deleted:
                    add(art.path, "deleted (soft 404)" if art.deleted == "soft_404" else "deleted (404)")
            add("/upload/docs/%D0%97%D0%B0%D1%8F%D0%B2%D0%BB%D0%B5%D0%BD%D0%B8%D0%B5%20%D0%A1%D0%9A%D0%91%20"
                "%D0%9E%D0%94%D0%9A%D0%91%20%D0%BE%D1%82%2016%20%D0%BC%D0%B0%D1%8F%202022.pdf", "PDF attachment")
            for path in ("/", "/?gen-tab=press", "/about/", "/authorized_organs/", "/documents/", "/contacts/"):
                add(path, "static page")
            add("/search/?q=%D0%9E%D0%94%D0%9A%D0%91", "search (disallowed by robots.txt)")
            add(f"/news/calendar/?date={model.NEWEST_DATE.isoformat()}", "endless calendar (any /news/calendar/)")
            for section in [None] + SECTION_SLUGS:
                path = "/news/" if section is None else f"/news/{section}/"
                pages = max(1, -(-len(self.listing(lang, section)) // PER_PAGE))
                add(path, "listing")
                for page in range(2, pages + 1):
                    add(f"{path}?{self.page_param(section)}={page}", "listing page")
            for day in self.filter_days(lang):
                add(f"/news/?arrFilter_DATE={day.isoformat()}&set_filter=Y", "listing filter")
            if self.flavour == "variant":
                for path, reason in variant.excluded(self, lang):
                    add(path, reason)
        if external_url:
            out.append({"url": external_url + "/partners/", "language": None, "reason": "off-site host"})
        return out

    def page_param(self, section: str | None) -> str:
        """The listing's Bitrix pager parameter."""
        return "PAGEN_2" if self.flavour == "variant" and section == variant.PAGEN2_SECTION else "PAGEN_1"

    def filter_days(self, language: str) -> list[dt.date]:
        """Days offered as filter links on the all-news listing."""
        return [a.published for a in self.articles(language) if a.published][:3]


def clean(text: str) -> str:
    """Ground-truth normal form: NFC, NBSP as space, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).replace("\u00a0", " ").split())
