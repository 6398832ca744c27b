"""arXiv's OAI-PMH interface (oaipmh.arxiv.org/oai), the one arXiv asks harvesters to use for
past days: `ListRecords` in the `arXivRaw` format (every version with its submission date),
by set (`cs`, `math`, `physics:hep-th`, ...) and datestamp, paged by resumption tokens, each
page its own polite request (its own timeout; 503 + Retry-After is OAI-PMH's flow control).

A datestamp is the day a record last changed, not its announcement day. The day a version was
announced is worked out from arXiv's cycle: the listing whose submission window (14:00 ET
cut-offs) holds the version's date; a record stamped on a later listing day within a week of
that is taken as held back by moderation and announced on its stamp (arXiv stamps a record when
it announces it). A later stamp than that is a metadata change (a journal reference, a DOI),
not an announcement.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.errors import ListingUnreadable
from bot.models import Paper
from bot.sources.announce import announce_type
from bot.sources.cycle import Cycle
from bot.sources.http import PoliteFetcher

__all__ = ["HELD_DAYS", "OaiPmh", "OaiRecord", "oai_sets", "parse_list_records"]

HELD_DAYS = 7  # longest moderation hold taken for one; a later stamp is a metadata change
_NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "raw": "http://arxiv.org/OAI/arXivRaw/"}
_PHYSICS = {"astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph"}
_PHYSICS |= {"nlin", "nucl-ex", "nucl-th", "physics", "quant-ph"}
_AUTHORS = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


@dataclass(frozen=True)
class OaiRecord:
    id: str
    datestamp: dt.date
    versions: list[tuple[int, dt.datetime]]  # (number, submitted), oldest first
    title: str
    authors: list[str]
    categories: list[str]  # primary first
    comments: str
    abstract: str

    def announced(self, cycle: Cycle) -> dict[dt.date, int]:
        """Listing day -> the version announced on it."""
        days = {cycle.holding(when): number for number, when in self.versions}
        if self.versions:
            number, when = self.versions[-1]
            expected = cycle.holding(when)
            stamp = self.datestamp
            held = expected < stamp <= expected + dt.timedelta(days=HELD_DAYS)
            if held and cycle.is_listing_day(stamp):  # announced when stamped
                del days[expected]
                days[stamp] = number
        return days

    def paper(self, day: dt.date, version: int, wanted: set[str]) -> Paper:
        primary = self.categories[0] if self.categories else ""
        return Paper(
            id=self.id,
            version=version,
            title=self.title,
            authors=self.authors,
            abstract=self.abstract,
            categories=self.categories,
            primary_category=primary,
            announce_type=announce_type(cross=primary not in wanted, replaced=version > 1),
            comment=self.comments or None,
            announced=day,
        )


def oai_sets(categories: list[str]) -> list[str]:
    """The OAI sets covering `categories`: their archives (physics' under `physics:`)."""
    archives = dict.fromkeys(c.split(".")[0] for c in categories)
    return [f"physics:{a}" if a in _PHYSICS and a != "physics" else a for a in archives]


def _text(node: ET.Element, tag: str) -> str:
    found = node.find(f"raw:{tag}", _NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def _record(node: ET.Element) -> OaiRecord | None:
    header = node.find("oai:header", _NS)
    meta = node.find("oai:metadata/raw:arXivRaw", _NS)
    if header is None or header.get("status") == "deleted" or meta is None:
        return None
    stamp = dt.date.fromisoformat((header.findtext("oai:datestamp", "", _NS)).strip()[:10])
    versions = []
    for v in meta.findall("raw:version", _NS):
        when = email.utils.parsedate_to_datetime(v.findtext("raw:date", "", _NS).strip())
        versions.append((int(v.get("version", "v1").lstrip("v")), when))
    authors = [a for a in _AUTHORS.split(_text(meta, "authors")) if a]
    return OaiRecord(
        id=_text(meta, "id"),
        datestamp=stamp,
        versions=sorted(versions),
        title=_text(meta, "title"),
        authors=authors,
        categories=_text(meta, "categories").split(),
        comments=_text(meta, "comments"),
        abstract=_text(meta, "abstract"),
    )


def parse_list_records(text: str) -> tuple[list[OaiRecord], str, int | None]:
    """(records, resumption token or "", the complete list size the server states, if any)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ListingUnreadable("arXiv's OAI-PMH answered something that is not XML.") from e
    error = root.find("oai:error", _NS)
    if error is not None:
        if error.get("code") == "noRecordsMatch":
            return [], "", 0
        raise ListingUnreadable(
            f"arXiv's OAI-PMH refused the request: {error.get('code')} {error.text or ''}".strip()
            + "."
        )
    body = root.find("oai:ListRecords", _NS)
    if body is None:
        raise ListingUnreadable("arXiv's OAI-PMH answer holds no ListRecords.")
    try:
        records = [r for n in body.findall("oai:record", _NS) if (r := _record(n))]
    except (ValueError, TypeError) as e:
        raise ListingUnreadable(f"arXiv's OAI-PMH sent a record it could not read ({e}).") from e
    token = body.find("oai:resumptionToken", _NS)
    if token is None:
        return records, "", None
    size = token.get("completeListSize")
    return records, (token.text or "").strip(), int(size) if size and size.isdigit() else None


class OaiPmh:
    def __init__(self, fetcher: PoliteFetcher, url: str) -> None:
        self.fetcher = fetcher
        self.url = url.rstrip("?")

    async def records(self, start: dt.date, until: dt.date, set_spec: str) -> list[OaiRecord]:
        """Every record of `set_spec` stamped in [start, until], all resumption pages; the
        count checked against the complete list size when the server states one."""
        params: dict[str, str] = {
            "verb": "ListRecords",
            "metadataPrefix": "arXivRaw",
            "set": set_spec,
            "from": start.isoformat(),
            "until": until.isoformat(),
        }
        out: list[OaiRecord] = []
        stated: int | None = None
        while True:
            text = await self.fetcher.get_text(f"{self.url}?{urlencode(params)}")
            # Thousands of records a page: parsed off the event loop.
            records, token, size = await asyncio.to_thread(parse_list_records, text)
            out += records
            stated = size if size is not None else stated
            if not token:
                break
            params = {"verb": "ListRecords", "resumptionToken": token}
        if stated is not None and stated != len(out):
            raise ListingUnreadable(
                f"arXiv's OAI-PMH stated {stated} records of {set_spec} but sent {len(out)}."
            )
        return out
