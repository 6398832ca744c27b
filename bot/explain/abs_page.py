"""arXiv's abstract page (arxiv.org/abs/ID) → a PaperExtract of title, authors and abstract.

Read when arXiv has no HTML version of a paper. It is also the page that tells a withdrawn paper
apart: its submission history marks the version that withdrew it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import ClassVar

from bot.explain.extract import PaperExtract
from bot.explain.markup import VOID_TAGS
from bot.explain.text import squash

__all__ = ["parse_abs_page"]

# "This paper has been withdrawn by the authors." (not "the drug was withdrawn from the market").
_WITHDRAWN = re.compile(
    r"\b(?:paper|article|manuscript|submission|preprint)\b[^.]{0,60}?\bwithdrawn\b", re.I
)


class _AbsParser(HTMLParser):
    """citation_* meta tags, plus the comments and submission history (versions, withdrawal)."""

    _WANTED: ClassVar[dict[str, str]] = {
        "comments": "comments",
        "submission-history": "history",
        "abstract": "abstract",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.text: dict[str, list[str]] = {}
        self.stack: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and a.get("name", "").startswith("citation_"):
            self.meta.setdefault(a["name"], []).append(a.get("content", ""))
            return
        if tag in VOID_TAGS:
            return
        classes = set(a.get("class", "").split())
        kind = next((k for c, k in self._WANTED.items() if c in classes), None)
        self.stack.append((tag, kind))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for _, kind in reversed(self.stack):
            if kind:
                self.text.setdefault(kind, []).append(data)
                return


def parse_abs_page(
    html: str, *, paper_id: str, version: int | None = None, url: str = ""
) -> PaperExtract:
    """Title, authors, abstract and comments of arXiv's abstract page; withdrawn or not."""
    parser = _AbsParser()
    parser.feed(html)
    parser.close()
    meta = parser.meta
    history = squash(" ".join(parser.text.get("history", [])))
    comment = squash(" ".join(parser.text.get("comments", [])))
    abstract = (
        squash((meta.get("citation_abstract") or [""])[0])
        or squash(" ".join(parser.text.get("abstract", []))).removeprefix("Abstract:").strip()
    )
    versions = [int(v) for v in re.findall(r"\[v(\d+)\]", history)]
    withdrawn_at = re.search(r"\[v(\d+)\][^\[]*\(withdrawn\)", history)
    at = int(withdrawn_at.group(1)) if withdrawn_at else None
    # The history lists the withdrawal for every version's page; an earlier version asked for
    # by number is still a paper (its page then shows its own abstract).
    withdrawn = any(_WITHDRAWN.search(t) for t in (abstract, comment)) or (
        at is not None and (version is None or version >= at)
    )
    authors = []
    for name in meta.get("citation_author", []):
        last, _, first = name.partition(",")
        authors.append(squash(f"{first} {last}") if first else squash(last))
    return PaperExtract(
        paper_id=paper_id,
        version=version or (max(versions) if versions else None),
        source="abs",
        url=url,
        title=squash((meta.get("citation_title") or [""])[0]),
        authors=authors,
        abstract=abstract,
        comment=comment,
        withdrawn=withdrawn,
        withdrawn_version=at,
    )
