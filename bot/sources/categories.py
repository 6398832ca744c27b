"""arXiv's category taxonomy (arxiv.org/category_taxonomy), to reject typos before asking arXiv."""

from __future__ import annotations

__all__ = ["KNOWN", "suggestions", "validate_categories"]

_GROUPS = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE "
    "NI OH OS PF PL RO SC SD SE SI SY",
    "stat": "AP CO ME ML OT TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
    "RT SG SP ST",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "econ": "EM GN TH",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
    "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
}
KNOWN = frozenset(
    [f"{g}.{s}" for g, subs in _GROUPS.items() for s in subs.split()]
    + [
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
)
_BY_LOWER = {c.lower(): c for c in KNOWN}


def suggestions(bad: str) -> str:
    """The valid names of the archive a bad name seems to belong to (or a few common ones)."""
    group = bad.split(".", 1)[0].lower()
    names = sorted(c for c in KNOWN if c.lower().startswith(group + "."))
    return ", ".join(names or ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML", "math.OC"])


def validate_categories(raw: list[str]) -> list[str]:
    """Normalise case ('cs.cl' -> 'cs.CL'); raise ValueError naming the unknown ones."""
    good: list[str] = []
    bad: list[str] = []
    for item in raw:
        name = _BY_LOWER.get(item.strip().lower())
        (good if name else bad).append(name or item)
    if bad:
        raise ValueError(", ".join(bad))
    return list(dict.fromkeys(good))
