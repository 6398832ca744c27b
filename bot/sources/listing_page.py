"""arXiv's listing pages, read with the standard library's HTML parser.

`/list/CAT/new` shows the latest announcement: a line "Showing new listings for Tuesday, 10 June
2025", then sections "New submissions (showing N of N entries)", "Cross submissions (...)",
"Replacement submissions (...)", each a run of `<dt>` (id) / `<dd>` (title, authors, comments,
subjects with the primary in `span.primary-subject`, abstract in `p.mathjax`) pairs.
`/list/CAT/recent` shows the last five announcement days under headings "Tue, 10 Jun 2025
(showing N of N entries )", ids without abstracts. The counts a page states are checked against
what was parsed: a page that does not add up raises ListingUnreadable instead of passing for a
short listing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bot.errors import ListingUnreadable

__all__ = [
    "NewPage",
    "PageEntry",
    "RecentDay",
    "page_day",
    "parse_new_page",
    "parse_recent_page",
]

SECTIONS = {"new": "new", "cross": "cross", "replacement": "replace"}
_SHOWING = re.compile(r"Showing new listings for \w+,\s+(\d{1,2} \w+ \d{4})")
_SECTION = re.compile(
    r"^(New|Cross|Replacement) submissions \(showing (\d+) of (\d+) entries\s*\)", re.I
)
_RECENT_DAY = re.compile(r"^\w{3}, (\d{1,2} \w{3} \d{4}) \(showing (\d+) of (\d+) entries\s*\)")
_ABS = re.compile(r"/abs/(?P<id>[^/?#]+?)(?:v(?P<v>\d+))?$")
_CATEGORY = re.compile(r"\(([a-z\-]+(?:\.[A-Za-z\-]+)?)\)")
_VOID = {"br", "img", "meta", "link", "input", "hr", "wbr", "source"}
_FIELDS = ("list-title", "list-authors", "list-comments", "list-subjects")


@dataclass
class PageEntry:
    id: str
    section: str = "new"  # new, cross, replace (of the page's own category)
    version: int | None = None
    title: str = ""
    authors: list[str] = field(default_factory=list)
    comments: str = ""
    subjects: list[str] = field(default_factory=list)  # category codes, primary first
    abstract: str = ""


@dataclass
class NewPage:
    day: dt.date
    entries: list[PageEntry]
    stated: dict[str, int]  # section -> the total the page says it has


@dataclass
class RecentDay:
    day: dt.date
    ids: list[str]
    stated: int


class _Reader(HTMLParser):
    """Headings, entries and each entry's fields; text outside those is kept for the date line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.headings: list[tuple[str, int]] = []  # (text, entries seen before it)
        self.entries: list[PageEntry] = []
        self.text: list[str] = []
        self._heading: list[str] | None = None
        self._buf: dict[str, list[str]] = {}
        self._primary: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "h3":
            self._heading = []
        elif tag == "a" and self._inside("list-identifier"):
            match = _ABS.search(dict(attrs).get("href") or "")
            if match and dict(attrs).get("title") == "Abstract":
                v = match["v"]
                self.entries.append(PageEntry(id=match["id"], version=int(v) if v else None))
        elif tag == "a" and self._inside("list-authors"):
            self._buf.setdefault("author", []).append("")
        if tag not in _VOID:
            self.stack.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self._heading is not None:
            self.headings.append((" ".join("".join(self._heading).split()), len(self.entries)))
            self._heading = None
        if tag == "dd":
            self._close_entry()
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if not self.entries or self._inside("descriptor"):
            return
        if self._inside("primary-subject"):
            self._primary.append(data)
        if self._inside("list-authors") and self.stack[-1][0] == "a":
            self._buf["author"][-1] += data
        for name in (*_FIELDS, "mathjax"):
            if self._inside(name) and (name != "mathjax" or self._in_tag("p")):
                self._buf.setdefault(name, []).append(data)
                break

    def _inside(self, cls: str) -> bool:
        return any(cls in classes for _, classes in self.stack)

    def _in_tag(self, tag: str) -> bool:
        return any(t == tag and "mathjax" in c for t, c in self.stack)

    def _close_entry(self) -> None:
        if not self.entries:
            return
        entry, buf = self.entries[-1], self._buf

        def text(name: str) -> str:
            return " ".join("".join(buf.get(name, [])).split())

        entry.title = text("list-title")
        entry.authors = [a for a in (" ".join(x.split()) for x in buf.get("author", [])) if a]
        entry.comments = text("list-comments")
        entry.abstract = text("mathjax")
        subjects = _CATEGORY.findall(text("list-subjects"))
        primary = _CATEGORY.findall("".join(self._primary))
        entry.subjects = list(dict.fromkeys(primary[:1] + subjects))
        self._buf, self._primary = {}, []


def _date(text: str, fmt: str) -> dt.date:
    return dt.datetime.strptime(text, fmt).date()


def page_day(html: str, chunk: int = 8192) -> dt.date | None:
    """The day a `/list/CAT/new` page shows, read from its head only: a page still showing the
    previous day is told apart without parsing its hundreds of entries."""
    reader = _Reader()
    for start in range(0, len(html), chunk):
        reader.feed(html[start : start + chunk])
        showing = _SHOWING.search(" ".join("".join(reader.text).split()))
        if showing:
            return _date(showing[1], "%d %B %Y")
        if reader.entries:
            break
    return None


def parse_new_page(html: str) -> NewPage:
    """The announcement on a `/list/CAT/new` page, its stated counts checked."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    showing = _SHOWING.search(" ".join("".join(reader.text).split()))
    if not showing:
        raise ListingUnreadable("arXiv's listing page has no 'Showing new listings for' line.")
    day = _date(showing[1], "%d %B %Y")
    stated: dict[str, int] = {}
    bounds: list[tuple[str, int]] = []
    for heading, start in reader.headings:
        match = _SECTION.match(heading)
        if match:
            section = SECTIONS[match[1].lower()]
            if int(match[2]) != int(match[3]):
                raise ListingUnreadable(f"arXiv's listing page shows only part of '{heading}'.")
            stated[section] = int(match[3])
            bounds.append((section, start))
    for i, (section, start) in enumerate(bounds):
        end = bounds[i + 1][1] if i + 1 < len(bounds) else len(reader.entries)
        for entry in reader.entries[start:end]:
            entry.section = section
        if end - start != stated[section]:
            raise ListingUnreadable(
                f"arXiv's listing page of {day} states {stated[section]} {section} entries "
                f"but holds {end - start}."
            )
    if reader.entries and not bounds:
        raise ListingUnreadable("arXiv's listing page has entries outside any known section.")
    return NewPage(day=day, entries=reader.entries, stated=stated)


def parse_recent_page(html: str) -> list[RecentDay]:
    """The days on one `/list/CAT/recent` page with the ids shown under each (a day may go on
    over the next page: the caller compares `ids` with `stated`)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    days: list[tuple[RecentDay, int]] = []
    for heading, start in reader.headings:
        match = _RECENT_DAY.match(heading)
        if match:
            days.append((RecentDay(_date(match[1], "%d %b %Y"), [], int(match[3])), start))
    if reader.entries and not days:
        raise ListingUnreadable("arXiv's recent page has entries under no day heading.")
    for i, (day, start) in enumerate(days):
        end = days[i + 1][1] if i + 1 < len(days) else len(reader.entries)
        day.ids = [e.id for e in reader.entries[start:end]]
    return [d for d, _ in days]
