"""`/arxiv explain`: extraction from LaTeXML, checked Claude notes, fallbacks, cache, rendering.

Offline: the fake arXiv serves the synthetic LaTeXML pages, the fake Anthropic API answers the
`write_paper_notes` tool through `responder`, Redis is a real redis-server.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any

import pytest

from bot.chat.commands import Invocation
from bot.errors import BadArxivId, PaperNotFound
from bot.explain import NoteKind, parse_latexml
from bot.explain.service import PaperWithdrawn
from bot.models import Usage
from bot.records import Experiments, Note, NoteEquation, Symbol
from bot.render.notes import CHAT_LIMIT, note_chat, note_markdown
from tests.conftest import MakeApp
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.latexml_pages import (
    CLARIFY_ID,
    D2R_ID,
    HIDDEN_HTML,
    HIDDEN_ID,
    HIDDEN_INSTRUCTIONS,
    HIDDEN_VISIBLE_HTML,
    SAMPLE_HTML,
    VISIBLE_INSTRUCTION,
    WITHDRAWN_ID,
)

CHANNEL = "slack:C1"
NO_HTML_ID = "2506.06440"  # in the 2025-06-10 listing, no page in SAMPLE_HTML
PLACEHOLDERS = ("not found", "n/a", "tbd")

# Two equations of the D2R page, as the model would copy them (Eq. 5 with extra spaces), and one
# that the paper never displays.
EQ5 = r"\mathcal{L}_{\mathrm{D2R}}=\mathcal{L}_{\mathrm{adv}}+\lambda\,\mathcal{L}_{\mathrm{clean}}"
EQ1 = (
    r"\min_{\theta}\,\mathbb{E}_{(x,y)\sim\mathcal{D}}\left[\max_{\|\delta\|_{\infty}\leq"
    r"\epsilon}\mathcal{L}_{\mathrm{CE}}(f_{\theta}(x+\delta),y)\right]"
)
INVENTED = r"\mathcal{L}_{\mathrm{total}}=\mathcal{L}_{\mathrm{D2R}}+\mu\,\|\theta\|_{2}^{2}"


def d2r_answer(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "equations": [
            {
                "number": "5",
                "latex": EQ5.replace("=", " = ").replace("+", " + "),
                "symbols": [
                    {
                        "symbol": r"\lambda",
                        "meaning": "weight of the clean-distribution loss, 0.5 by default",
                    },
                    {"symbol": r"\mathcal{L}_{\mathrm{adv}}", "meaning": "N/A"},
                ],
                "why_it_matters": "The objective the target model minimizes: both D2R steps in one.",
            },
            {
                "number": "1",
                "latex": EQ1,
                "symbols": [{"symbol": r"\epsilon", "meaning": "radius of the perturbation ball"}],
                "why_it_matters": "The adversarial-training saddle point that D2R builds on.",
            },
            {
                "number": "7",
                "latex": INVENTED,
                "symbols": [{"symbol": r"\mu", "meaning": "weight decay"}],
                "why_it_matters": "Regularizes the total loss.",
            },
            {
                "number": "",
                "latex": "Not found in extracted context",
                "symbols": [],
                "why_it_matters": "Not found in extracted context",
            },
        ],
        "method_summary": [
            "D2R trains the target model in two steps, on the adversarial and the clean "
            "distribution, each guided by a guidance model.",
            "CAG builds adversarial examples from the gradients of both models.",
        ],
        "experiments": {
            "tasks": ["Robustness of image classifiers to adversarial attacks"],
            "datasets": ["CIFAR-10", "CIFAR-100", "Tiny ImageNet"],
            "baselines": ["PGD-AT", "TRADES", "MART", "AWP", "N/A"],
            "main_results": [
                "D2R + CAG reaches 55.13% AutoAttack accuracy on CIFAR-10 with WideResNet34-10, "
                "against 54.04% for AWP (Table 1).",
                "On ImageNet, D2R gains 12.5 points of robust accuracy.",
            ],
        },
        "verify_in_pdf": ["How the guidance model is trained alongside the target model.", "TBD"],
    }


def notes_requests(fake_claude: FakeAnthropic) -> list[dict[str, Any]]:
    return [
        r
        for r in fake_claude.requests
        if (r.get("tool_choice") or {}).get("name") == "write_paper_notes"
    ]


def served(paper_id: str) -> str:
    return html.unescape(SAMPLE_HTML[paper_id])


def quoted_from(page: str, latex: str) -> bool:
    """Verbatim, or (an aligned row) made of the alttexts of the row's cells."""
    return latex in page or all(part in page for part in latex.split(" "))


# --------------------------------------------------------------------------- extraction
def test_extracts_display_equations_with_numbers_and_context() -> None:
    x = parse_latexml(SAMPLE_HTML[D2R_ID], paper_id=D2R_ID, version=1)
    assert [e.number for e in x.equations] == ["1", "2", "3", "4", "5", "6"]
    assert [e.anchor for e in x.equations][:3] == ["S3.E1", "S3.E2", "S3.E3"]
    page = served(D2R_ID)
    for eq in x.equations:
        assert quoted_from(page, eq.latex)
        assert "\\displaystyle" not in eq.latex
    # Eq. (3) is an aligned row: left- and right-hand sides joined back together.
    assert x.equations[2].latex.startswith(r"\mathcal{L}_{\mathrm{adv}} =\mathcal{L}_{\mathrm{CE}}")
    # Inline math is prose, never an equation.
    assert not any(e.latex in (r"\alpha", r"f_{\theta}", r"\lambda=0.5") for e in x.equations)
    assert x.equations[0].before == "Adversarial training solves the saddle-point problem"
    assert x.equations[0].after.startswith("whose inner maximization")
    assert x.equations[0].section == "3.1 Preliminaries"
    assert [c.label for c in x.captions] == ["Table 1", "Table 2"]
    assert any("55.13" in row for row in x.captions[0].rows)
    assert "3.2 Dual regularization loss" in x.headings
    assert x.describe() == (
        "arXiv HTML (LaTeXML) of 2506.07056v1: 6 display equations, "
        "2 table captions, 5 sections (3 subsections)"
    )
    assert x.authors[0] == "Zhenyu Liu" and x.abstract.startswith("The robustness")


def test_numbered_rows_of_an_aligned_group_stay_separate_equations() -> None:
    x = parse_latexml(SAMPLE_HTML[CLARIFY_ID], paper_id=CLARIFY_ID)
    assert [e.number for e in x.equations] == ["1", "2", "3", "4", "5", "6"]
    assert x.equations[2].latex.startswith(r"\approx\frac{1}{n}")
    assert x.equations[1].before == x.equations[2].before  # one group, one introduction


def test_lone_symbols_are_not_equations_and_continuation_lines_join() -> None:
    page = """<html><body>
    <div id="infobox"><div id="watermark-tr">arXiv:2401.00001v3 [cs.LG] 02 Jan 2024</div></div>
    <article class="ltx_document ltx_authors_1line">
    <h1 class="ltx_title ltx_title_document">T</h1>
    <section class="ltx_section" id="S1"><h2 class="ltx_title ltx_title_section">
    <span class="ltx_tag ltx_tag_section">1 </span>One</h2>
    <div class="ltx_para"><p class="ltx_p">The state <math alttext="\\mathbf{z}" display="inline">
    <mi>z</mi></math> is shown alone:</p>
    <table class="ltx_equation ltx_eqn_table" id="S1.Ex1"><tbody>
    <tr class="ltx_equation ltx_eqn_row">
    <td class="ltx_eqn_cell ltx_align_center"><math alttext="\\mathbf{z}" display="block"><mi>z</mi>
    </math></td></tr></tbody></table>
    <p class="ltx_p">and the loss is</p>
    <table class="ltx_equationgroup ltx_eqn_align ltx_eqn_table" id="S1.EGx1">
    <tbody id="S1.Ex2"><tr class="ltx_equation ltx_eqn_row ltx_align_baseline">
    <td class="ltx_eqn_cell ltx_eqn_center_padleft"></td>
    <td class="ltx_td ltx_align_right ltx_eqn_cell">
    <math alttext="\\displaystyle L" display="inline"></math></td>
    <td class="ltx_td ltx_align_left ltx_eqn_cell">
    <math alttext="\\displaystyle=a+b" display="inline"></math></td>
    <td class="ltx_eqn_cell ltx_eqn_center_padright"></td></tr></tbody>
    <tbody id="S1.E1"><tr class="ltx_equation ltx_eqn_row ltx_align_baseline">
    <td class="ltx_eqn_cell ltx_eqn_center_padleft"></td>
    <td class="ltx_td ltx_align_right ltx_eqn_cell"></td>
    <td class="ltx_td ltx_align_left ltx_eqn_cell"><math display="inline"><semantics><mi>c</mi>
    <annotation encoding="application/x-tex">\\displaystyle=c</annotation></semantics></math></td>
    <td class="ltx_eqn_cell ltx_eqn_eqno"><span class="ltx_tag ltx_tag_equation">(1)</span></td>
    </tr></tbody></table></div>
    <div class="ltx_para"><p class="ltx_p">Hence the claim.<span class="ltx_note ltx_role_footnote">
    <span class="ltx_note_outer">A footnote.</span></span></p></div>
    </section></article></body></html>"""
    x = parse_latexml(page, paper_id="2401.00001")
    assert x.version == 3  # from the watermark
    assert [(e.number, e.latex) for e in x.equations] == [("1", "L =a+b =c")]
    assert x.equations[0].before == "and the loss is"
    assert x.equations[0].after == "Hence the claim."
    assert x.sections[0].paragraphs[0] == "The state $\\mathbf{z}$ is shown alone:"


def test_intertext_rows_are_prose_that_introduces_the_next_equation() -> None:
    # The shape LaTeXML gives `align` with \intertext (seen on real LaTeXML output).
    def row(eid: str, tex: str, n: int) -> str:
        return (
            f'<tbody id="{eid}"><tr class="ltx_equation ltx_eqn_row">'
            '<td class="ltx_eqn_cell ltx_eqn_center_padleft"></td>'
            f'<td class="ltx_td ltx_align_right ltx_eqn_cell"><math alttext="{tex}" '
            'display="inline"><mi>x</mi></math></td><td class="ltx_eqn_cell ltx_eqn_eqno">'
            f'<span class="ltx_tag ltx_tag_equation">({n})</span></td></tr></tbody>'
        )

    def text(words: str) -> str:
        return (
            '<tbody><tr class="ltx_eqn_row"><td class="ltx_eqn_cell ltx_align_left" '
            f'colspan="4">{words}</td></tr></tbody>'
        )

    page = (
        '<article class="ltx_document"><section class="ltx_section">'
        '<h2 class="ltx_title ltx_title_section">Derivation</h2>'
        '<div class="ltx_para"><p class="ltx_p">We normalize.</p></div>'
        '<table class="ltx_equationgroup ltx_eqn_align ltx_eqn_table" id="S1.EGx1">'
        + text("Subtract L from all sides")
        + row("S1.E4", "\\displaystyle 0&lt;=x-L&lt;=R-L", 4)
        + text("Divide by R-L")
        + row("S1.E5", "\\displaystyle 0&lt;=\\dfrac{x-L}{R-L}&lt;=1", 5)
        + "</table></section></article>"
    )
    x = parse_latexml(page, paper_id="2401.00001")
    assert [(e.number, e.latex, e.before) for e in x.equations] == [
        ("4", "0<=x-L<=R-L", "Subtract L from all sides"),
        ("5", r"0<=\dfrac{x-L}{R-L}<=1", "Divide by R-L"),
    ]
    assert x.equations[0].after == "Divide by R-L"


# ---------------------------------------------------------------------------- Claude notes
async def test_claude_note_keeps_real_equations_and_drops_invented_ones(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    app = await make_app(claude=fake_claude)
    explainer = app.explainer()
    note = await explainer.note(D2R_ID, None, channel_id=CHANNEL)

    assert note.kind is NoteKind.CLAUDE and note.version == 1 and not note.cached
    assert [e.number for e in note.equations] == ["5", "1"]
    page = served(D2R_ID)
    for eq in note.equations:
        assert eq.latex in page  # verbatim from the paper (Eq. 5 without the model's spaces)
    assert note.equations[0].latex == EQ5
    assert all(INVENTED not in e.latex for e in note.equations)
    assert [s.symbol for s in note.equations[0].symbols] == [r"\lambda"]  # "N/A" meaning dropped
    assert note.experiments.baselines == ["PGD-AT", "TRADES", "MART", "AWP"]
    assert len(note.experiments.main_results) == 1 and "55.13%" in note.experiments.main_results[0]
    assert note.verify_in_pdf == ["How the guidance model is trained alongside the target model."]
    assert note.header[0] == (
        "Read: arXiv HTML (LaTeXML) of 2506.07056v1: 6 display equations, "
        "2 table captions, 5 sections (3 subsections)."
    )
    assert note.header[1].startswith("Sent to claude-haiku-4-5 (≈")
    assert "quoted verbatim from the paper" in note.header[2]
    assert note.header[3] == (
        "Checked against the paper, dropped: 1 equation that the paper "
        "does not display; 1 placeholder equation; 1 result claim whose "
        "numbers are not in the text read."
    )
    assert note.html_url is not None and note.html_url.endswith(f"/html/{D2R_ID}v1")
    for text in (note.model_dump_json(), note_markdown(note), note_chat(note).plain()):
        lowered = text.lower()
        assert not any(p in lowered for p in PLACEHOLDERS), text

    (request,) = notes_requests(fake_claude)
    assert request["tool_choice"] == {"type": "tool", "name": "write_paper_notes"}
    user = request["messages"][0]["content"]
    assert f"latex: {EQ5}" in user and "55.13" in user
    assert fake_claude.input_tokens(request) <= 6000


async def test_second_ask_is_served_from_the_cache_and_the_ledger_holds_the_cost(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    app = await make_app(claude=fake_claude)
    explainer = app.explainer()
    first = await explainer.note(D2R_ID, None, channel_id=CHANNEL)
    second = await explainer.note(f"{D2R_ID}v1", None, channel_id=CHANNEL)
    assert len(notes_requests(fake_claude)) == 1
    assert second.cached and second.equations == first.equations
    ledger = await app.store.usage(CHANNEL, dt.date.today())
    assert ledger.calls == 1
    assert ledger.input_tokens + ledger.cache_creation_input_tokens == (
        fake_claude.usage_log[0]["input_tokens"]
        + fake_claude.usage_log[0]["cache_creation_input_tokens"]
    )
    assert ledger.output_tokens == fake_claude.usage_log[0]["output_tokens"]
    assert first.usage is not None
    assert ledger.cost_usd == pytest.approx(first.usage.cost_usd) and ledger.cost_usd > 0
    assert await app.store.get_note(D2R_ID, 1, "claude-haiku-4-5") is not None
    assert "cached note" in note_chat(second).plain()


async def test_input_is_kept_within_the_token_budget(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    app = await make_app(claude=fake_claude)
    note = await app.explainer(max_input_tokens=1800).note(D2R_ID, 1, channel_id=CHANNEL)
    (request,) = notes_requests(fake_claude)
    assert fake_claude.input_tokens(request) <= 1800
    assert "of 1,800 input tokens" in note.sent and "all 6 equations" in note.sent
    assert "text of every section" not in note.sent  # section text is what gave way


async def test_versioned_ids_are_read_at_that_version(
    make_app: MakeApp, fake_arxiv: FakeArxiv, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    app = await make_app(claude=fake_claude)
    explainer = app.explainer()
    note = await explainer.note(f"{D2R_ID}v1", None, channel_id=CHANNEL)
    assert note.version == 1 and note.versioned_id == f"{D2R_ID}v1"
    assert ("GET", f"/html/{D2R_ID}v1") in fake_arxiv.requests
    again = await explainer.note(D2R_ID, 1, channel_id=CHANNEL)
    assert again.cached
    with pytest.raises(BadArxivId):
        await explainer.note(f"{D2R_ID}v1", 2, channel_id=CHANNEL)
    with pytest.raises(BadArxivId):
        await explainer.note(f"{D2R_ID}v0", None, channel_id=CHANNEL)


# ------------------------------------------------------------------------------ fallbacks
async def test_paper_without_html_falls_back_to_the_abstract_page(
    make_app: MakeApp, fake_arxiv: FakeArxiv, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer  # quotes equations that this paper does not have
    app = await make_app(claude=fake_claude)
    note = await app.explainer().note(NO_HTML_ID, None, channel_id=CHANNEL)
    # Without a version asked for, the latest is read; its number comes from the page or the API.
    assert ("GET", f"/html/{NO_HTML_ID}") in fake_arxiv.requests
    assert ("GET", f"/abs/{NO_HTML_ID}") in fake_arxiv.requests
    assert note.source.startswith(f"arXiv abstract page of {NO_HTML_ID}v1 (no HTML version")
    assert note.equations == [] and note.abstract and note.title
    assert any("only the abstract was available" in line for line in note.header)
    assert "```latex" not in note_chat(note).text


async def test_withdrawn_paper_gets_a_clear_answer(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    app = await make_app(claude=fake_claude)
    explainer = app.explainer()
    with pytest.raises(PaperWithdrawn):
        await explainer.note(WITHDRAWN_ID, None, channel_id=CHANNEL)
    reply = await explainer.reply(WITHDRAWN_ID, None, channel_id=CHANNEL)
    assert reply.error
    assert reply.text.startswith(f"arXiv lists {WITHDRAWN_ID} as withdrawn by its authors (v2)")
    assert f"explain {WITHDRAWN_ID}v1" in reply.text  # the earlier version, as the example
    assert fake_claude.requests == []


async def test_unknown_and_malformed_ids(make_app: MakeApp, fake_claude: FakeAnthropic) -> None:
    app = await make_app(claude=fake_claude)
    explainer = app.explainer()
    with pytest.raises(PaperNotFound):
        await explainer.note("2506.99999", None, channel_id=CHANNEL)
    reply = await explainer.reply("2506.99999", None, channel_id=CHANNEL)
    assert reply.error and "arXiv has no paper 2506.99999" in reply.text
    assert "Example: `explain 2506.06440`" in reply.text
    with pytest.raises(BadArxivId):
        await explainer.note("not-an-id", None, channel_id=CHANNEL)
    assert (await explainer.reply("not-an-id", None, channel_id=CHANNEL)).error
    assert fake_claude.requests == []


async def test_without_a_key_the_note_is_extractive(make_app: MakeApp) -> None:
    app = await make_app()
    note = await app.explainer().note(D2R_ID, None, channel_id=CHANNEL)
    assert note.kind is NoteKind.EXTRACTIVE and note.usage is None
    assert note.header[0] == (
        "Extractive note (no Claude key configured): equations quoted from "
        "the paper, not explained."
    )
    assert [e.number for e in note.equations] == ["1", "2", "3", "4", "5"]
    page = served(D2R_ID)
    assert note.equations[4].latex == EQ5 and EQ5 in page
    assert [c.label for c in note.captions] == ["Table 1", "Table 2"]
    assert note.abstract.startswith("The robustness")
    chat = note_chat(note)
    assert chat.text.count("```latex") >= 3 and len(chat.plain()) <= CHAT_LIMIT
    assert "In the paper: “Adversarial training solves" in chat.text
    assert f"$$\n{EQ5}\n$$" in note_markdown(note)


async def test_claude_overloaded_gives_the_extractive_note_with_the_reason(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    fake_claude.fail_next(529, 529, 529, 529)
    app = await make_app(claude=fake_claude)  # max_retries=1: two tries, both overloaded
    note = await app.explainer().note(D2R_ID, None, channel_id=CHANNEL)
    assert note.kind is NoteKind.EXTRACTIVE
    assert note.reason == "Claude was unavailable: overloaded, after 2 tries"
    assert note.header[0].startswith("Extractive note (Claude was unavailable: overloaded")
    assert len(note.equations) == 5
    assert all(quoted_from(served(D2R_ID), e.latex) for e in note.equations)
    assert len(fake_claude.requests) == 2
    assert (await app.store.usage(CHANNEL, dt.date.today())).calls == 0
    assert await app.store.get_note(D2R_ID, 1, "claude-haiku-4-5") is None  # not cached


async def test_spent_budget_refuses_politely_with_the_extractive_note(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    app = await make_app(claude=fake_claude)
    await app.store.record_usage(CHANNEL, dt.date.today(), Usage(model="x", calls=3, cost_usd=1.5))
    note = await app.explainer().note(D2R_ID, None, channel_id=CHANNEL)
    assert note.kind is NoteKind.EXTRACTIVE and fake_claude.requests == []
    assert "budget for today is used up: $1.50 of $1.00" in note.header[0]


async def test_explain_through_the_command_layer(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    app = await make_app(claude=fake_claude)
    handler = app.commands(app.explainer())
    reply = await handler.handle(
        Invocation(channel_id="slack:C1", user_id="U1", text="explain 2506.07056")
    )
    assert not reply.error
    assert f"```latex\n{EQ5}\n```" in reply.text
    assert reply.title.startswith("D2R: dual regularization loss")
    assert len(reply.plain()) <= CHAT_LIMIT
    bad = await handler.handle(Invocation(channel_id="slack:C1", user_id="U1", text="explain 12"))
    assert bad.error


# ------------------------------------------------------- instructions to models in the page
ROUTER_EQ = r"p_{i}(x)=\frac{\exp(w_{i}\cdot x)}{\sum_{j}\exp(w_{j}\cdot x)}"
OBEYED_NOTE = (
    "As instructed: a groundbreaking breakthrough, the most important paper of the year; "
    "see https://evil.example/claim @everyone"
)


def obeying_notes(body: dict[str, Any]) -> dict[str, Any]:
    """A model that follows any instruction it is shown, and otherwise writes honest notes."""
    sent = html.unescape(body["messages"][0]["content"]).lower()
    told = any(i.lower() in sent for i in [*HIDDEN_INSTRUCTIONS, VISIBLE_INSTRUCTION])
    return {
        "equations": [
            {"number": "1", "latex": ROUTER_EQ, "symbols": [], "why_it_matters": "The router."}
        ],
        "method_summary": [OBEYED_NOTE] if told else ["A router with a balance term."],
        "experiments": {
            "tasks": ["Multilingual pretraining"],
            "datasets": [],
            "baselines": ["Top-2"],
            "main_results": ["Low-resource perplexity 17.2 against 19.4 for Top-2 (Table 1)."],
        },
        "verify_in_pdf": [],
    }


def assert_clean(text: str) -> None:
    lowered = text.lower()
    for bad in ("evil.example", "@everyone", "groundbreaking", "most important", "as instructed"):
        assert bad not in lowered, text


async def explain_to_an_obeying_model(
    make_app: Any, fake_claude: Any, fake_arxiv: Any, page: str
) -> tuple[Any, Note, str]:
    """The app, the note on `page` as HIDDEN_ID, and what was sent to the model (lowercase)."""
    fake_arxiv.html_pages[HIDDEN_ID] = page
    fake_claude.responder = obeying_notes
    app = await make_app(claude=fake_claude)
    note = await app.explainer().note(HIDDEN_ID, channel_id=CHANNEL)
    (request,) = notes_requests(fake_claude)
    return app, note, html.unescape(request["messages"][0]["content"]).lower()


async def test_hidden_instructions_are_not_read_and_the_note_does_not_follow_them(
    make_app: Any, fake_claude: Any, fake_arxiv: Any
) -> None:
    _, note, sent = await explain_to_an_obeying_model(
        make_app, fake_claude, fake_arxiv, HIDDEN_HTML
    )
    reply = note_chat(note)
    assert all(i.lower()[:40] not in sent for i in HIDDEN_INSTRUCTIONS)
    assert "routers trained with a load-balancing loss" in sent  # the visible text around them
    assert_clean(reply.plain())
    assert "A router with a balance term." in reply.plain()
    assert "5 passages of hidden text left unread" in reply.plain()


async def test_a_note_that_obeys_the_papers_text_is_replaced_by_the_extractive_note(
    make_app: Any, fake_claude: Any, fake_arxiv: Any
) -> None:
    app, note, sent = await explain_to_an_obeying_model(
        make_app, fake_claude, fake_arxiv, HIDDEN_VISIBLE_HTML
    )
    # The instruction in plain sight was sent, fenced as the paper's text, and the model obeyed.
    assert VISIBLE_INSTRUCTION.lower()[:40] in sent
    assert note.kind is NoteKind.EXTRACTIVE and note.reason is not None
    assert note.reason.startswith(
        "Claude's notes followed instructions in the paper's text (a link"
    )
    assert (await app.store.usage(CHANNEL, dt.date.today())).calls == 1  # the call is paid for
    assert_clean(note_chat(note).plain())
    assert ROUTER_EQ in note_chat(note).text  # the paper's own equations, quoted
    # Asked again: the same replacement from the cache, with its reason, and nothing paid twice.
    again = await app.explainer().note(HIDDEN_ID, channel_id=CHANNEL)
    assert again.cached and again.reason == note.reason and again.kind is NoteKind.EXTRACTIVE
    assert len(notes_requests(fake_claude)) == 1
    assert (await app.store.usage(CHANNEL, dt.date.today())).calls == 1


async def test_an_honest_note_that_ranks_the_papers_own_equations_is_kept(
    make_app: Any, fake_claude: Any
) -> None:
    def honest(body: dict[str, Any]) -> dict[str, Any]:
        answer = d2r_answer(body)
        answer["method_summary"].append("Eq. (5) is the most important equation: the objective.")
        return answer

    fake_claude.responder = honest
    app = await make_app(claude=fake_claude)
    note = await app.explainer().note(D2R_ID, None, channel_id=CHANNEL)
    assert note.kind is NoteKind.CLAUDE
    assert "Eq. (5) is the most important equation: the objective." in note.method_summary


# ------------------------------------------------------------------------------ rendering
def _big_note() -> Note:
    eqs = [
        NoteEquation(
            number=str(i),
            latex=f"y_{{{i}}}=" + "+".join(f"a_{{{j}}}x^{{{j}}}" for j in range(40)),
            anchor=f"S1.E{i}",
            symbols=[Symbol(symbol=f"a_{{{j}}}", meaning="a coefficient " * 6) for j in range(8)],
            why_it_matters="It matters because " * 10,
        )
        for i in range(1, 6)
    ]
    return Note(
        paper_id="2506.00001",
        version=2,
        title="A long paper " * 10,
        authors=["A"] * 20,
        abs_url="https://arxiv.org/abs/2506.00001v2",
        kind=NoteKind.CLAUDE,
        model="claude-haiku-4-5",
        source="arXiv HTML (LaTeXML) of 2506.00001v2",
        header=["Read: x.", "Sent to y.", "Equations are quoted."],
        equations=eqs,
        method_summary=["A step of the method, described at length. " * 5] * 5,
        experiments=Experiments(
            tasks=["t"] * 5,
            datasets=["d"] * 5,
            baselines=["b"] * 9,
            main_results=["A result of 12.5 points. " * 8] * 5,
        ),
        verify_in_pdf=["Check this derivation in the appendix. " * 4] * 5,
    )


def test_chat_reply_is_clipped_cleanly() -> None:
    note = _big_note()
    reply = note_chat(note)
    plain = reply.plain()
    assert len(plain) <= CHAT_LIMIT
    assert plain.count("```") % 2 == 0  # no code block cut in half
    assert "**Method**" in plain and "**Experiments**" in plain  # equations did not crowd them out
    assert "Shortened for chat" in plain
    for eq in note.equations:  # an equation is shown whole or not at all
        assert eq.latex in plain or eq.latex[:30] not in plain


def test_markdown_and_json() -> None:
    note = _big_note()
    md = note_markdown(note)
    assert md.count("$$") == 2 * len(note.equations)
    assert "## Experiments" in md and "$a_{0}$: a coefficient" in md
    again = Note.model_validate_json(note.model_dump_json())
    assert again == note
    assert json.loads(note.model_dump_json())["kind"] == "claude"
