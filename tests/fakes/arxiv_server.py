"""A local fake of arXiv (aiohttp.web) speaking arXiv's real wire formats, for offline tests.

    async with FakeArxiv(listings, today=date(2025, 6, 10), html_pages=SAMPLE_HTML) as fake:
        feed = feedparser.parse(await fetch(fake.base_url + "/rss/cs.CL+cs.CV"))

It never reads /work/shared: the constructor receives the announcement listings
(``{date: [row, ...]}``, rows in the ``DATE.jsonl`` format: id, pdf, abs, authors, title,
categories (primary first), comment, summary; optional extra keys ``version``, ``doi``,
``journal_ref``, ``license`` and ``announce_type`` are honoured when present).

Routes
------
``GET /rss/{cats}`` -- RSS 2.0 as documented at info.arxiv.org/help/rss_specifications.html and
  produced by arXiv's feed service (github.com/arXiv/arxiv-feed): channel title/link/
  description/atom:link/docs/language/lastBuildDate/managingEditor/pubDate/skipDays; items
  title, link, description ("arXiv:IDvN Announce Type: T \\nAbstract: ..."), guid
  (``oai:arXiv.org:IDvN``), one category each, pubDate, arxiv:announce_type, dc:rights,
  dc:creator.  Items = papers of ``today``'s listing with a category in the request (an archive
  such as ``cs`` matches all ``cs.*``), deduped, ordered like arXiv: new, cross, replace,
  replace-cross, ids ascending.  Announce type: ``new`` if the primary category is requested,
  else ``cross``; a paper is a replacement (``replace`` / ``replace-cross``, version v2) when the
  YYMM of its id lies more than one month before the announcement month (or when its row says
  ``announce_type: replace...``).  NB: none of the real 2025 listings triggers that rule (their
  ids are all of the announcement or the previous month).  Saturday/Sunday or a day without a
  listing -> a valid feed with no items (arXiv's "empty feed" days).
  Unknown archive/category -> what arXiv's feed service does (arxiv-feed ``validate_request`` +
  ``serialize_error``): HTTP 400 with an RSS channel titled ``Feed error for query: ...`` whose
  description is the message ("Bad archive 'foo'. ..." / "Bad subject class 'XX'. ...").
  Category names are case-insensitive like arXiv's (``cs.cv`` == ``cs.CV``).
``GET /api/query`` -- the export API, Atom 1.0 shaped like the responses recorded in 2026 by the
  ``arxiv`` package's test-suite.  id_list (with/without version; a version above the paper's
  is "not found"), search_query (``all: ti: abs: au: co: cat: id:`` terms, quoted phrases,
  ``AND`` / ``OR`` / ``ANDNOT``, parentheses, ``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]``,
  ``lastUpdatedDate:[...]``; case-insensitive substring matching, ``_`` = space in ``au:``),
  start, max_results (default 10), sortBy (relevance = listing date desc then listing order,
  submittedDate, lastUpdatedDate), sortOrder (default descending).  Unknown ids are simply
  absent (totalResults 0 if none match).  An id that is not an arXiv identifier -> HTTP 400 with
  the single "Error" entry ``incorrect id format for ID`` (as recorded for ``id_list=abc``);
  bad start/max_results -> the same kind of 400 error feed.
  Dates: ``published`` = the listing date minus one day, 00:00:00Z (taken as the submission
  time); for a replacement, ``published`` = the 1st of its id's month and ``updated`` = listing
  date minus one day.  A paper listed on several days keeps its first listing.
``GET /list/{cat}/new`` -- the listing page of ``list_day()`` (``today`` here) in arXiv's shape
  (tests/fakes/arxiv_pages.py): new (primary CAT), cross and replacement sections with counts.
``GET /list/{cat}/recent?skip=&show=`` -- the last five listing days (new and cross, no
  abstracts), paged over their concatenation.  ArxivWorld (arxiv_world.py) moves all of these
  with a clock.
``GET /oai`` -- OAI-PMH 2.0 as arXiv's server (github.com/arXiv/oaipmh) answers it: verb
  ``ListRecords`` with ``metadataPrefix=arXivRaw`` (every version with its submission date,
  RFC 822 in GMT) or ``arXiv``, ``set`` (an archive such as ``cs``, ``physics:hep-th``),
  ``from``/``until`` (YYYY-MM-DD datestamps, inclusive), ``resumptionToken`` (exclusive of the
  others; ``oai_page`` records a page, the token carrying ``completeListSize`` and ``cursor``).
  A record's datestamp is the day its listing was announced, or its day in ``restamped`` (a later
  metadata change: OAI keeps only the last stamp).  Errors in an ``<error code=...>`` element
  with HTTP 200: ``badVerb``, ``badArgument``, ``cannotDisseminateFormat``,
  ``badResumptionToken``, ``noRecordsMatch``.
``GET /html/{id}`` -- ``html_pages[id]`` (versioned or versionless key), else 404.
``GET /abs/{id}`` -- minimal abstract page (citation_* meta tags, ``blockquote.abstract``) for any
  listed paper, 404 otherwise; ids in ``withdrawn`` (default: ``latexml_pages.WITHDRAWN_ID``)
  show arXiv's "This paper has been withdrawn ..." text as abstract and comment, at v2.

Faults: ``fail_next(prefix, *responses)`` queues responses for requests whose path starts with
``prefix`` (longest matching prefix first): int -> that HTTP status (``Retry-After: 0`` on
429/503), ``"garbage"`` -> 200 with a non-XML body, ``"timeout"`` -> wait 30 s then answer,
float -> wait that long then answer normally.  ``retry_after`` is the Retry-After of 429/503.  ``latency`` is added to every response.
``close()`` releases any pending waits at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any, ClassVar
from urllib.parse import quote_plus
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from tests.fakes._server import LocalServer

from .arxiv_pages import new_page, recent_page
from .latexml_pages import WITHDRAWN_ID

# ------------------------------------------------------------------ arXiv taxonomy (active)
_SUBJECT_CLASSES = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA "
    "NE NI OH OS PF PL RO SC SD SE SI SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
    "RT SG SP ST",
    "stat": "AP CO ME ML OT TH",
    "eess": "AS IV SP SY",
    "econ": "EM GN TH",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "astro-ph": "CO EP GA HE IM SR",
    "nlin": "AO CD CG PS SI",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
    "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
}
ARCHIVES: dict[str, list[str]] = {
    a: [f"{a}.{s}" for s in subs.split()] for a, subs in _SUBJECT_CLASSES.items()
} | {
    a: []
    for a in [
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math-ph",
        "nucl-ex",
        "nucl-th",
        "quant-ph",
    ]
}
CATEGORIES = frozenset(c for cats in ARCHIVES.values() for c in cats) | {
    a for a, cats in ARCHIVES.items() if not cats
}
_ALIASES = {
    "math.MP": "math-ph",
    "cs.SY": "eess.SY",
    "math.IT": "cs.IT",
    "math.ST": "stat.TH",
    "cs.NA": "math.NA",
    "q-fin.EC": "econ.GN",
}
_ALIASES |= {v: k for k, v in _ALIASES.items()}
CATEGORY_RE = re.compile(r"^[a-z\-]+(\.[A-Za-z\-]+)?$")
NEW_ID_RE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}(v\d+)?$")
OLD_ID_RE = re.compile(r"^[a-z\-]+(\.[A-Z]{2})?/\d{7}(v\d+)?$")
RSS_CAP = 2000
_ORDER = {"new": 0, "cross": 1, "replace": 2, "replace-cross": 3}
_LICENSES = (
    "http://creativecommons.org/licenses/by/4.0/",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by-nc-sa/4.0/",
)
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FAULT_STRINGS = ("garbage", "timeout")
_ATOM_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns:opensearch=\"http://a9.com/-/spec/"
    'opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" '
    'xmlns="http://www.w3.org/2005/Atom">\n'
)


def _x(text: Any) -> str:
    return escape(_CTRL.sub("", str(text)))


def _oneline(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def split_version(arxiv_id: str) -> tuple[str, int | None]:
    m = re.match(r"^(.*?)v(\d+)$", arxiv_id)
    return (m.group(1), int(m.group(2))) if m else (arxiv_id, None)


def is_replacement(row: dict[str, Any], day: dt.date) -> bool:
    """An id whose YYMM is more than one month before the announcement month."""
    if "announce_type" in row:
        return str(row["announce_type"]).startswith("replace")
    m = NEW_ID_RE.match(row["id"])
    if not m:
        return True  # old-style ids (pre-2007) can only be replacements today
    id_month = (2000 + int(m.group(1))) * 12 + int(m.group(2)) - 1
    return day.year * 12 + day.month - 1 - id_month > 1


def et_midnight(day: dt.date) -> dt.datetime:
    """00:00 America/New_York on ``day`` (US DST: 2nd Sunday of March .. 1st Sunday of Nov)."""
    march = dt.date(day.year, 3, 8 + (6 - dt.date(day.year, 3, 8).weekday()) % 7)
    nov = dt.date(day.year, 11, 1 + (6 - dt.date(day.year, 11, 1).weekday()) % 7)
    offset = -4 if march < day <= nov else -5
    return dt.datetime.combine(day, dt.time(), dt.timezone(dt.timedelta(hours=offset)))


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_feed_query(query: str) -> tuple[list[str], list[str]]:
    """arxiv-feed's ``validate_request``: (archives, categories) or ValueError(message)."""
    parts = query.split("+")
    if any(not p.strip() for p in parts):
        raise ValueError(
            f"Invalid archive specification '{query}'. Correct format is one or more archive "
            "names delimited by '+'. Each name can be either of the form 'archive' or "
            "'archive.category'. For example: 'math+cs.CG' (all from math and only "
            "computational geometry from computer science)."
        )
    archives: list[str] = []
    cats: list[str] = []
    for part in parts:
        bits = part.split(".")
        if len(bits) > 2 or not CATEGORY_RE.match(part.lower()):
            raise ValueError(
                f"Bad archive/subject class structure '{part}'. Valid names include "
                "an archive, possibly followed by a single period and subject class."
            )
        arch = bits[0].lower()
        if arch not in ARCHIVES:
            raise ValueError(
                f"Bad archive '{arch}'. Valid archive names are: {', '.join(ARCHIVES)}."
            )
        if len(bits) == 1:
            archives.append(arch)
            continue
        for cand in (f"{arch}.{bits[1].upper()}", f"{arch}.{bits[1].lower()}"):
            if cand in CATEGORIES:
                cats.append(cand)
                break
        else:
            raise ValueError(
                f"Bad subject class '{bits[1]}'. Valid subject classes for the "
                f"archive '{arch}' are: {', '.join(ARCHIVES[arch])}."
            )
    return archives, cats


@dataclass
class _Paper:
    row: dict[str, Any]
    listed: dt.date
    version: int
    published: dt.datetime
    updated: dt.datetime

    @property
    def id(self) -> str:
        return str(self.row["id"])


def _make_paper(row: dict[str, Any], day: dt.date) -> _Paper:
    submitted = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), dt.UTC)
    replaced = is_replacement(row, day)
    published = submitted
    m = NEW_ID_RE.match(row["id"])
    if replaced and m:
        published = dt.datetime(2000 + int(m.group(1)), int(m.group(2)), 1, tzinfo=dt.UTC)
    version = int(row.get("version") or (2 if replaced else 1))
    return _Paper(row, day, version, published, submitted)


# ------------------------------------------------------------------ search_query matching
_QTOKEN = re.compile(
    r"\s*(?:(?P<p>[()])|(?P<op>ANDNOT|AND|OR)(?=[\s(]|$)|(?P<f>\w+):\[(?P<rng>[^\]]*)\]"
    r'|(?:(?P<f2>\w+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s()]+)))'
)
_FIELDS: dict[str, Callable[[_Paper], str]] = {
    "ti": lambda p: p.row["title"],
    "abs": lambda p: p.row["summary"],
    "au": lambda p: " ; ".join(p.row["authors"]),
    "co": lambda p: p.row.get("comment") or "",
    "jr": lambda p: p.row.get("journal_ref") or "",
    "id": lambda p: p.id,
    "cat": lambda p: " ".join(p.row["categories"]),
}
_FIELDS["all"] = lambda p: " ".join(f(p) for k, f in _FIELDS.items() if k != "all")


def _norm(text: str) -> str:
    return _oneline(text).lower()


def _stamp(digits: str, end: bool) -> dt.datetime:
    digits = digits.strip()
    if len(digits) == 8:
        digits += "2359" if end else "0000"
    fmt = "%Y%m%d%H%M%S" if len(digits) == 14 else "%Y%m%d%H%M"
    stamp = dt.datetime.strptime(digits, fmt).replace(tzinfo=dt.UTC)
    return stamp + dt.timedelta(seconds=59) if end and len(digits) == 12 else stamp


def _term(field: str, value: str, phrase: bool) -> Callable[[_Paper], bool]:
    field = field.lower() if field else "all"
    if field in ("submitteddate", "lastupdateddate"):
        lo, _, hi = value.partition(" TO ")
        a, b = _stamp(lo, False), _stamp(hi, True)
        attr = "published" if field == "submitteddate" else "updated"
        return lambda p: a <= getattr(p, attr) <= b
    if field == "cat":
        want = value.lower()
        if want.endswith("*"):
            return lambda p: any(c.lower().startswith(want[:-1]) for c in p.row["categories"])
        return lambda p: want in (c.lower() for c in p.row["categories"])
    if field not in _FIELDS:
        return lambda p: False
    get = _FIELDS[field]
    value = _norm(value.replace("_", " ") if field == "au" else value)
    words = [value] if phrase else value.split()
    return lambda p: all(w in _norm(get(p)) for w in words)


def compile_query(query: str) -> Callable[[_Paper], bool]:
    """Left-to-right boolean query (AND / OR / ANDNOT, parentheses, juxtaposition = AND)."""
    toks = []
    pos = 0
    while pos < len(query.rstrip()):
        m = _QTOKEN.match(query, pos)
        if not m or m.end() == pos:
            return lambda p: False
        toks.append(m)
        pos = m.end()
    idx = 0

    def expr() -> Callable[[_Paper], bool]:
        nonlocal idx
        left = atom()
        while idx < len(toks) and toks[idx].group("p") != ")":
            op = toks[idx].group("op")
            if op:
                idx += 1
            right = atom()
            left = _combine(op or "AND", left, right)
        return left

    def atom() -> Callable[[_Paper], bool]:
        nonlocal idx
        if idx >= len(toks):
            raise ValueError("incomplete query")
        t = toks[idx]
        idx += 1
        if t.group("p") == "(":
            inner = expr()
            idx += 1
            return inner
        if t.group("rng") is not None:
            return _term(t.group("f"), t.group("rng"), False)
        if t.group("phrase") is not None:
            return _term(t.group("f2"), t.group("phrase"), True)
        if t.group("word") is not None:
            return _term(t.group("f2"), t.group("word"), False)
        raise ValueError("unexpected token")

    try:
        return expr() if toks else (lambda p: False)
    except (ValueError, IndexError):
        return lambda p: False


def _combine(
    op: str, a: Callable[[_Paper], bool], b: Callable[[_Paper], bool]
) -> Callable[[_Paper], bool]:
    if op == "OR":
        return lambda p: a(p) or b(p)
    if op == "ANDNOT":
        return lambda p: a(p) and not b(p)
    return lambda p: a(p) and b(p)


# ------------------------------------------------------------------ the server
class FakeArxiv(LocalServer):
    def __init__(
        self,
        listings: dict[dt.date, list[dict[str, Any]]],
        *,
        today: dt.date,
        html_pages: dict[str, str] | None = None,
        latency: float = 0.0,
        withdrawn: Iterable[str] | None = None,
    ) -> None:
        self.today = today
        self.html_pages = dict(html_pages or {})
        self.latency = latency
        self.withdrawn = set((WITHDRAWN_ID,) if withdrawn is None else withdrawn)
        self.requests: list[tuple[str, str]] = []
        self.user_agents: set[str] = set()
        self.base_url = ""
        self._days: dict[dt.date, list[dict[str, Any]]] = {}
        self._papers: dict[str, _Paper] = {}
        for day in sorted(listings):
            seen: dict[str, dict[str, Any]] = {}
            for row in listings[day]:
                seen.setdefault(row["id"], row)
                self._papers.setdefault(row["id"], _make_paper(row, day))
            self._days[day] = list(seen.values())
        self._faults: dict[str, list[int | str | float]] = {}
        self._closing = asyncio.Event()
        self.retry_after = "0"  # the Retry-After of queued 429/503 faults
        self.oai_page = 500
        self.restamped: dict[str, dt.date] = {}

    # -------------------------------------------------------------- lifecycle
    runner_options: ClassVar[dict[str, Any]] = {"handler_cancellation": True}

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/rss/{cats}", self._h_rss)
        app.router.add_get("/api/query", self._h_api)
        app.router.add_get("/html/{id:.+}", self._h_html)
        app.router.add_get("/abs/{id:.+}", self._h_abs)
        app.router.add_get("/list/{cat}/new", self._h_list_new)
        app.router.add_get("/list/{cat}/recent", self._h_list_recent)
        app.router.add_get("/oai", self._h_oai)
        self._closing = asyncio.Event()
        return app

    async def close(self) -> None:
        self._closing.set()  # releases requests parked by "timeout" faults and latency
        await super().close()

    # -------------------------------------------------------------- faults
    def fail_next(self, path_prefix: str, *responses: int | str | float) -> None:
        for r in responses:
            if (
                isinstance(r, bool)
                or not isinstance(r, (int, float, str))
                or (isinstance(r, str) and r not in _FAULT_STRINGS)
            ):
                raise ValueError(f"unknown fault {r!r}")
        self._faults.setdefault(path_prefix, []).extend(responses)

    @property
    def pending_faults(self) -> dict[str, list[int | str | float]]:
        return {k: list(v) for k, v in self._faults.items() if v}

    def _take_fault(self, path: str) -> int | str | float | None:
        for prefix in sorted(self._faults, key=len, reverse=True):
            if path.startswith(prefix) and self._faults[prefix]:
                return self._faults[prefix].pop(0)
        return None

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        self.user_agents.add(request.headers.get("User-Agent", ""))
        fault = self._take_fault(request.path)
        if self.latency:
            await self._wait(self.latency)
        if fault == "timeout":
            await self._wait(30.0)
        elif fault == "garbage":
            return web.Response(
                text="<html><body><h1>Bad Gateway</h1><p>upstream reset <b",
                content_type="text/html",
            )
        elif isinstance(fault, float):
            await self._wait(fault)
        elif isinstance(fault, int):
            headers = {"Retry-After": self.retry_after} if fault in (429, 503) else {}
            return web.Response(status=fault, text=f"HTTP {fault}", headers=headers)
        response: web.StreamResponse = await handler(request)
        return response

    # -------------------------------------------------------------- RSS
    def _rss_channel(self, query: str, title: str, description: str, day: dt.date) -> str:
        link = f"http://rss.arxiv.org/rss/{_x(query)}"
        midnight = et_midnight(day)
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n<rss xmlns:arxiv=\"http://arxiv.org/schemas/"
            'atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/'
            'Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
            f"  <channel>\n    <title>{_x(title)}</title>\n    <link>{link}</link>\n"
            f"    <description>{_x(description)}</description>\n"
            f'    <atom:link href="{link}" rel="self" type="application/rss+xml"/>\n'
            "    <docs>http://www.rssboard.org/rss-specification</docs>\n"
            "    <language>en-us</language>\n"
            f"    <lastBuildDate>{format_datetime(midnight.astimezone(dt.UTC))}"
            "</lastBuildDate>\n    <managingEditor>rss-help@arxiv.org</managingEditor>\n"
            f"    <pubDate>{format_datetime(midnight)}</pubDate>\n"
        )

    async def _h_rss(self, request: web.Request) -> web.Response:
        query = request.match_info["cats"]
        day = self.today
        try:
            archives, cats = parse_feed_query(query)
        except ValueError as exc:  # arXiv: 400 + an RSS channel describing the error
            body = (
                self._rss_channel(
                    query, f"Feed error for query: https://rss.arxiv.org/rss/{query}", str(exc), day
                )
                + "  </channel>\n</rss>\n"
            )
            return web.Response(status=400, text=body, content_type="application/rss+xml")
        wanted = set(cats) | {_ALIASES[c] for c in cats if c in _ALIASES}

        def requested(cat: str) -> bool:
            return cat in wanted or cat.split(".")[0] in archives

        items = []
        rows = [] if day.weekday() >= 5 else self._days.get(day, [])
        for row in rows:
            pcats = [c for c in row["categories"] if c in CATEGORIES]
            if not any(requested(c) for c in pcats):
                continue
            kind = "new" if pcats and requested(pcats[0]) else "cross"
            if is_replacement(row, day):
                kind = "replace" if kind == "new" else "replace-cross"
            items.append((_ORDER[kind], row["id"], kind, row, pcats))
        topics = archives + cats
        out = [
            self._rss_channel(
                "+".join(topics),
                f"{', '.join(topics)} updates on arXiv.org",
                f"{', '.join(topics)} updates on the arXiv.org e-print archive.",
                day,
            ),
            "    <skipDays>\n      <day>Saturday</day>\n      <day>Sunday</day>\n    </skipDays>\n",
        ]
        pub = format_datetime(et_midnight(day))
        # arXiv's feeds stop at 2,000 items (rss_specifications): the rest is simply not there.
        for _, arxiv_id, kind, row, pcats in sorted(items, key=lambda t: t[:2])[:RSS_CAP]:
            version = row.get("version") or (2 if kind.startswith("replace") else 1)
            full = f"{arxiv_id}v{version}"
            lic = row.get("license") or _LICENSES[zlib.crc32(arxiv_id.encode()) % len(_LICENSES)]
            out.append(
                f"    <item>\n      <title>{_x(_oneline(row['title']))}</title>\n"
                f"      <link>https://arxiv.org/abs/{_x(arxiv_id)}</link>\n"
                f"      <description>{_x(f'arXiv:{full} Announce Type: {kind}')} \n"
                f"Abstract: {_x(_oneline(row['summary']))}</description>\n"
                f'      <guid isPermaLink="false">oai:arXiv.org:{_x(full)}</guid>\n'
                + "".join(f"      <category>{_x(c)}</category>\n" for c in pcats)
                + f"      <pubDate>{pub}</pubDate>\n"
                f"      <arxiv:announce_type>{kind}</arxiv:announce_type>\n"
                f"      <dc:rights>{_x(lic)}</dc:rights>\n"
                + (f"      <arxiv:DOI>{_x(row['doi'])}</arxiv:DOI>\n" if row.get("doi") else "")
                + (
                    f"      <arxiv:journal_reference>{_x(row['journal_ref'])}"
                    "</arxiv:journal_reference>\n"
                    if row.get("journal_ref")
                    else ""
                )
                + f"      <dc:creator>{_x(', '.join(row['authors']))}</dc:creator>\n    </item>\n"
            )
        out.append("  </channel>\n</rss>\n")
        return web.Response(text="".join(out), content_type="application/rss+xml")

    # -------------------------------------------------------------- export API
    def _api_error(self, message: str) -> web.Response:
        now = _iso(et_midnight(self.today))
        ref = "https://arxiv.org/api/errors#" + _x(message.replace(" ", "_"))
        body = (
            f"{_ATOM_HEAD}  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
            f"  <updated>{now}</updated>\n  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
            "  <opensearch:totalResults>1</opensearch:totalResults>\n"
            "  <opensearch:startIndex>0</opensearch:startIndex>\n  <entry>\n"
            f"    <id>{ref}</id>\n    <title>Error</title>\n    <updated>{now}</updated>\n"
            f'    <link href="{ref}" rel="alternate" type="text/html"/>\n'
            f"    <summary>{_x(message)}</summary>\n"
            "    <author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n</feed>\n"
        )
        return web.Response(status=400, text=body, content_type="application/atom+xml")

    @staticmethod
    def _entry(p: _Paper, version: int) -> str:
        row, full = p.row, f"{p.id}v{version}"
        cats = "".join(
            f"    <category term={quoteattr(_CTRL.sub('', c))} "
            'scheme="http://arxiv.org/schemas/atom"/>\n'
            for c in row["categories"]
        )
        opt = ""
        if row.get("comment"):
            opt += f"    <arxiv:comment>{_x(_oneline(row['comment']))}</arxiv:comment>\n"
        opt += f"    <arxiv:primary_category term={quoteattr(row['categories'][0])}/>\n"
        if row.get("journal_ref"):
            opt += f"    <arxiv:journal_ref>{_x(row['journal_ref'])}</arxiv:journal_ref>\n"
        authors = "".join(
            f"    <author>\n      <name>{_x(a)}</name>\n    </author>\n" for a in row["authors"]
        )
        doi = ""
        if row.get("doi"):
            doi = (
                f'    <arxiv:doi>{_x(row["doi"])}</arxiv:doi>\n    <link rel="related" '
                f'href="https://doi.org/{_x(row["doi"])}" title="doi"/>\n'
            )
        return (
            f"  <entry>\n    <id>http://arxiv.org/abs/{_x(full)}</id>\n"
            f"    <title>{_x(_oneline(row['title']))}</title>\n"
            f"    <updated>{_iso(p.updated)}</updated>\n"
            f'    <link href="https://arxiv.org/abs/{_x(full)}" rel="alternate" '
            'type="text/html"/>\n'
            f'    <link href="https://arxiv.org/pdf/{_x(full)}" rel="related" '
            'type="application/pdf" title="pdf"/>\n'
            f"    <summary>{_x(_oneline(row['summary']))}</summary>\n{cats}"
            f"    <published>{_iso(p.published)}</published>\n{opt}{authors}{doi}  </entry>\n"
        )

    async def _h_api(self, request: web.Request) -> web.Response:
        q = request.query
        search_query = q.get("search_query", "").strip()
        id_list = [i.strip() for i in q.get("id_list", "").split(",") if i.strip()]
        try:
            start = int(q.get("start", "0"))
        except ValueError:
            return self._api_error("start must be an integer")
        try:
            max_results = int(q.get("max_results", "10"))
        except ValueError:
            return self._api_error("max_results must be an integer")
        if start < 0:
            return self._api_error("start must be non-negative")
        if max_results < 0:
            return self._api_error("max_results must be non-negative")
        if max_results > 30000:
            return self._api_error("max_results must be less than or equal to 30000")
        for arxiv_id in id_list:
            if not (NEW_ID_RE.match(arxiv_id) or OLD_ID_RE.match(arxiv_id)):
                return self._api_error(f"incorrect id format for {arxiv_id}")
        match = compile_query(search_query) if search_query else (lambda p: True)
        papers = self.api_papers()
        hits: list[tuple[_Paper, int]] = []
        if id_list:
            seen = set()
            for arxiv_id in id_list:
                base, version = split_version(arxiv_id)
                paper = papers.get(base)
                if paper is None or (version or 1) > paper.version or (base, version) in seen:
                    continue
                seen.add((base, version))
                if match(paper):
                    hits.append((paper, version or paper.version))
        elif search_query:
            order = sorted(papers.values(), key=lambda p: p.listed, reverse=True)
            hits = [(p, p.version) for p in order if match(p)]
        sort_by = q.get("sortBy", "relevance")
        descending = q.get("sortOrder", "descending") != "ascending"
        if sort_by in ("submittedDate", "lastUpdatedDate"):
            attr = "published" if sort_by == "submittedDate" else "updated"
            hits.sort(key=lambda h: (getattr(h[0], attr), h[0].id), reverse=descending)
        elif not descending:
            hits.reverse()
        page = hits[start : start + max_results]
        shown = search_query if ":" in search_query or not search_query else f"all:{search_query}"
        ids = ",".join(id_list)
        digest = (
            base64.b64encode(hashlib.sha1(f"{shown}|{ids}|{start}|{max_results}".encode()).digest())
            .decode()
            .rstrip("=")
        )
        body = (
            f"{_ATOM_HEAD}  <id>https://arxiv.org/api/{digest}</id>\n"
            f"  <title>arXiv Query: search_query={_x(shown)}&amp;id_list={_x(ids)}&amp;start="
            f"{start}&amp;max_results={max_results}</title>\n"
            f"  <updated>{_iso(et_midnight(self.today))}</updated>\n"
            f'  <link href="https://arxiv.org/api/query?search_query={_x(shown)}&amp;start={start}'
            f'&amp;max_results={max_results}&amp;id_list={_x(ids)}" type="application/atom+xml"/>\n'
            f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>\n"
            f"  <opensearch:totalResults>{len(hits)}</opensearch:totalResults>\n"
            f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
            + "".join(self._entry(p, v) for p, v in page)
            + "</feed>\n"
        )
        return web.Response(text=body, content_type="application/atom+xml")

    def api_papers(self) -> dict[str, _Paper]:
        """What the API's index holds (all of it here; a lagging index in ArxivWorld)."""
        return self._papers

    # -------------------------------------------------------------- listing pages
    def list_day(self, cat: str | None = None) -> dt.date:
        """The announcement `/list/CAT/new` shows: ``today``'s listing."""
        return self.today

    def listing_days(self, cat: str | None = None) -> list[dt.date]:
        """Announcement days the recent pages know, newest first (at most five)."""
        shown = self.list_day(cat)
        return sorted((d for d in self._days if d <= shown and d.weekday() < 5), reverse=True)[:5]

    def sections(self, cat: str, day: dt.date) -> dict[str, list[dict[str, Any]]]:
        """CAT's entries of listing ``day``: new (primary CAT), cross, replace."""
        out: dict[str, list[dict[str, Any]]] = {"new": [], "cross": [], "replace": []}
        for row in [] if day.weekday() >= 5 else self._days.get(day, []):
            if cat not in row["categories"]:
                continue
            key = "new" if row["categories"][0] == cat else "cross"
            out["replace" if is_replacement(row, day) else key].append(row)
        return out

    async def _h_list_new(self, request: web.Request) -> web.Response:
        cat = request.match_info["cat"]
        if cat not in CATEGORIES:
            return web.Response(
                status=404, text=f"No such category {cat}", content_type="text/html"
            )
        day = self.list_day(cat)
        return web.Response(
            text=new_page(cat, day, self.sections(cat, day)), content_type="text/html"
        )

    async def _h_list_recent(self, request: web.Request) -> web.Response:
        cat = request.match_info["cat"]
        if cat not in CATEGORIES:
            return web.Response(
                status=404, text=f"No such category {cat}", content_type="text/html"
            )
        skip = int(request.query.get("skip", "0"))
        show = int(request.query.get("show", "50"))
        days = []
        for day in self.listing_days(cat):
            sections = self.sections(cat, day)
            days.append((day, sections["new"] + sections["cross"]))
        return web.Response(text=recent_page(cat, days, skip, show), content_type="text/html")

    # -------------------------------------------------------------- OAI-PMH
    def oai_stamps(self) -> dict[str, dt.date]:
        """Each record's datestamp (the whole archive here; what is announced in ArxivWorld)."""
        return {pid: self.restamped.get(pid, p.listed) for pid, p in self._papers.items()}

    @staticmethod
    def versions(p: _Paper) -> list[tuple[int, dt.datetime]]:
        """(number, submitted) of every version: v1 at ``published``, later ones at ``updated``."""
        first = p.published if p.published < p.updated or p.version == 1 else p.updated
        if p.version > 1 and first >= p.updated:
            first = p.updated - dt.timedelta(days=40)
        return [(1, first)] + [(n, p.updated) for n in range(2, p.version + 1)]

    def _oai(self, query: str, body: str, code: str = "") -> web.Response:
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/'
            'OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"  <responseDate>{_iso(et_midnight(self.today))}</responseDate>\n"
            f"  <request>{_x(query)}</request>\n"
        )
        if code:
            body = f'  <error code="{code}">{_x(body)}</error>\n'
        return web.Response(text=head + body + "</OAI-PMH>\n", content_type="text/xml")

    def _raw(self, p: _Paper, stamp: dt.date, set_spec: str) -> str:
        row = p.row
        authors = list(row["authors"])
        names = ", ".join(authors[:-1]) + (" and " if len(authors) > 1 else "") + authors[-1]
        versions = "".join(
            f'<version version="v{n}"><date>{format_datetime(t.astimezone(dt.UTC), usegmt=True)}'
            f"</date><size>{100 + n}kb</size><source_type>D</source_type></version>"
            for n, t in self.versions(p)
        )
        comments = (
            f"<comments>{_x(_oneline(row['comment']))}</comments>" if row.get("comment") else ""
        )
        return (
            f"<record><header><identifier>oai:arXiv.org:{_x(p.id)}</identifier>"
            f"<datestamp>{stamp.isoformat()}</datestamp><setSpec>{_x(set_spec)}</setSpec></header>"
            '<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">'
            f"<id>{_x(p.id)}</id><submitter>{_x(authors[0])}</submitter>{versions}"
            f"<title>{_x(_oneline(row['title']))}</title><authors>{_x(names)}</authors>"
            f"<categories>{_x(' '.join(row['categories']))}</categories>{comments}"
            f"<abstract>{_x(_oneline(row['summary']))}</abstract></arXivRaw></metadata></record>\n"
        )

    async def _h_oai(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        query = request.query_string
        if q.get("verb") != "ListRecords":
            return self._oai(query, "Only ListRecords is served here.", "badVerb")
        skip = 0
        if "resumptionToken" in q:
            try:
                saved = base64.urlsafe_b64decode(q.pop("resumptionToken").encode()).decode()
                args, _, cursor = saved.rpartition("|")
                q = dict(part.split("=", 1) for part in args.split("&")) | {"verb": "ListRecords"}
                skip = int(cursor)
            except ValueError:
                return self._oai(query, "The resumption token is not valid.", "badResumptionToken")
        if q.get("metadataPrefix") not in ("arXivRaw", "arXiv"):
            return self._oai(query, "Format not served.", "cannotDisseminateFormat")
        try:
            lo = dt.date.fromisoformat(q.get("from", "2005-09-16"))
            hi = dt.date.fromisoformat(q.get("until", "9999-12-31"))
        except ValueError:
            return self._oai(query, "from/until must be YYYY-MM-DD.", "badArgument")
        set_spec = q.get("set", "")
        archive = set_spec.split(":")[-1] if set_spec else ""

        def in_set(p: _Paper) -> bool:
            return not archive or any(c.split(".")[0] == archive for c in p.row["categories"])

        stamps = self.oai_stamps()
        hits = sorted(
            (stamp, pid)
            for pid, stamp in stamps.items()
            if lo <= stamp <= hi and in_set(self._papers[pid])
        )
        if not hits:
            return self._oai(query, "No records match.", "noRecordsMatch")
        page = hits[skip : skip + self.oai_page]
        body = "".join(self._raw(self._papers[pid], stamp, set_spec) for stamp, pid in page)
        rest = skip + len(page) < len(hits)
        args = "&".join(f"{k}={v}" for k, v in sorted(q.items()) if k != "verb")
        token = base64.urlsafe_b64encode(f"{args}|{skip + len(page)}".encode()).decode()
        body += (
            f'<resumptionToken cursor="{skip}" completeListSize="{len(hits)}">'
            f"{token if rest else ''}</resumptionToken>\n"
        )
        return self._oai(query, f"<ListRecords>\n{body}</ListRecords>\n")

    # -------------------------------------------------------------- HTML pages
    async def _h_html(self, request: web.Request) -> web.Response:
        arxiv_id = request.match_info["id"]
        base, _ = split_version(arxiv_id)
        if base not in self.withdrawn:
            for key in (arxiv_id, base):
                if key in self.html_pages:
                    return web.Response(text=self.html_pages[key], content_type="text/html")
            for key, page in self.html_pages.items():
                if split_version(key)[0] == base:
                    return web.Response(text=page, content_type="text/html")
        return web.Response(status=404, text=f"No HTML for '{arxiv_id}'", content_type="text/html")

    async def _h_abs(self, request: web.Request) -> web.Response:
        arxiv_id = request.match_info["id"]
        base, _ = split_version(arxiv_id)
        paper = self._papers.get(base)
        if paper is None:
            return web.Response(
                status=404,
                text=f"Article identifier '{arxiv_id}' not recognized",
                content_type="text/html",
            )
        row = paper.row
        abstract, comment = _oneline(row["summary"]), _oneline(row.get("comment"))
        history = f"[v1] {_day(paper.published)} 00:00:00 UTC"
        if base in self.withdrawn:
            abstract = comment = "This paper has been withdrawn by the authors."
            history += f"<br/>[v2] {_day(paper.updated + dt.timedelta(days=2))} (withdrawn)"
        meta = "\n".join(
            [f'<meta name="citation_title" content={quoteattr(_oneline(row["title"]))}/>']
            + [
                f'<meta name="citation_author" content={quoteattr(_last_first(a))}/>'
                for a in row["authors"]
            ]
            + [
                f'<meta name="citation_date" content="{paper.published:%Y/%m/%d}"/>',
                f'<meta name="citation_pdf_url" content="https://arxiv.org/pdf/{_x(base)}"/>',
                f'<meta name="citation_arxiv_id" content="{_x(base)}"/>',
                f'<meta name="citation_abstract" content={quoteattr(abstract)}/>',
            ]
        )
        authors = ", ".join(
            f'<a href="https://arxiv.org/search/?searchtype=author&amp;query={quote_plus(a)}">'
            f"{_x(a)}</a>"
            for a in row["authors"]
        )
        subjects = "; ".join(
            f'<span class="primary-subject">{_x(c)}</span>' if i == 0 else _x(c)
            for i, c in enumerate(row["categories"])
        )
        page = (
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>[{_x(base)}] '
            f'{_x(_oneline(row["title"]))}</title>\n{meta}\n</head>\n<body>\n<div id="abs">\n'
            f'<div class="dateline">[Submitted on {_day(paper.published)[5:]}]</div>\n'
            f'<h1 class="title mathjax"><span class="descriptor">Title:</span>'
            f"{_x(_oneline(row['title']))}</h1>\n"
            f'<div class="authors"><span class="descriptor">Authors:</span>{authors}</div>\n'
            f'<blockquote class="abstract mathjax">\n<span class="descriptor">Abstract:</span>'
            f"{_x(abstract)}\n</blockquote>\n"
            '<div class="metatable"><table summary="Additional metadata">\n'
            + (
                f'<tr><td class="tablecell label">Comments:</td><td class="tablecell comments '
                f'mathjax">{_x(comment)}</td></tr>\n'
                if comment
                else ""
            )
            + f'<tr><td class="tablecell label">Subjects:</td><td class="tablecell subjects">'
            f"{subjects}</td></tr>\n</table></div>\n"
            f'<div class="submission-history"><h2>Submission history</h2>{history}</div>\n'
            "</div>\n</body>\n</html>\n"
        )
        return web.Response(text=page, content_type="text/html")


def _day(t: dt.datetime) -> str:
    return f"{t:%a}, {t.day} {t:%b %Y}"


def _last_first(name: str) -> str:
    first, _, last = name.rpartition(" ")
    return f"{last}, {first}" if first else last
