"""Paper text can be instructions to a model: find the sentences shaped like one.

Not a list of attack phrases: a sentence is instruction-shaped when it is addressed to a reader
that is a model (a reviewer, grader, assistant, "you") or points at itself ("this paper") and
tells that reader what to output (a directive, a score). The words of each part are listed per
language, so a paraphrase in any of them has the same shape. The scorer uses it to re-score a
paper in isolation, `explain` to know which of a paper's sentences a note must not echo.
"""

from __future__ import annotations

import re

__all__ = ["instruction_sentences", "instruction_shaped"]

# Who the sentence speaks to: an automated reader, in the languages arXiv papers are written in.
_ADDRESSEE = re.compile(
    r"\b(?:ai|llms?|gpts?|bots?|assistants?|(?:language )?models?|reviewers?|reviewing|graders?|"
    r"scorers?|scoring|evaluators?|rankers?|ranking|triage|summari[sz]ers?|system|you|your|"
    r"modèle|modele|évaluateur|ia|ki|modell|modellen|systeme?|modelo|evaluador|avaliador|"
    r"modello|valutatore|modelu|model|beoordelende|bedömande|recenzent)\b"
    r"|модел|рецензент|оценщик|模型|评审|評審|ＡＩ|採点|モデル|評価|모델|평가|النموذج|للنموذج|المقيم",
    re.I,
)
# The text pointing at itself: what an instruction asks to be scored.
_SELF = re.compile(
    r"\b(?:this|the present|the above|our) (?:paper|work|study|article|abstract|text|submission|"
    r"manuscript|preprint)\b|\b(?:cet article|ce travail|dieser? (?:artikel|arbeit|beitrag)|"
    r"este (?:trabajo|artículo|artigo|estudo)|questo articolo|dit artikel|tej pracy|"
    r"denna artikel)\b|этой статье|эту статью|这篇论文|本文|この論文|이 논문|هذه الورقة",
    re.I,
)
# What to do: an imperative or an obligation.
_DIRECTIVE = re.compile(
    r"\b(?:ignore|disregard|forget|must|should|shall|required?|assign|give|grant|treat|reflect|"
    r"(?:rate|score|rank|grade|output|set|put|place)\s+(?:this|it|that|the|accordingly|\d)|"
    r"kindly|please|do not mention|obey|decode|noter|attribuez|notez|ignorez|considérez|bitte|"
    r"bewerten|asigne|asignar|assegnare|assegna|"
    r"considere|atribua|geef|przyznaj|ge|reconfigured|updated scoring|pre-approved)\b"
    r"|поставьте|присвойте|请|請|ください|하세요|매기세요|امنح|أعط",
    re.I,
)
# What it asks for: a score, a rank or a verdict on the text itself.
_VERDICT = re.compile(
    r"\b(?:relevan\w*|novelty|score[ds]?|scoring|10(?:/10)?|ten|maximum|max|highest|top|first|"
    r"priority|must-read|essential|on topic|pertinen\w*|höchste\w*|rilevan\w*|novedad|"
    r"nouveauté|relevância|relevantie|trafność|relevans|högsta|nota|note)\b"
    r"|релевант|相关|相關|関連|최고|관련|صلة|١٠|10",
    re.I,
)
# A line that opens by naming who it is for: "Note for the scoring system:", "Reviewers:".
_VOCATIVE = re.compile(r"^[^:：.!?]{0,60}[:：]")
# Said to the reader whoever it is: "you", "please", talk of its instructions, or the prompt's
# own markup (a fence closed from inside the paper).
_TO_READER = re.compile(
    r"\b(?:you|your|please|kindly|bitte|por favor|s'il vous plaît|per favore)\b|请|ください"
    r"|\b(?:ignore|disregard|forget|ignorez|ignorieren|ignora)\b.{0,30}\b(?:instructions?|rules|"
    r"rubric|guidelines|prompt|consignes|anweisungen|instrucciones|istruzioni)\b",
    re.I,
)
_PROMPT_MARKUP = re.compile(
    r"</?(?:paper|papers|interests|system|instructions?|user)\b[^>]*>", re.I
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")


def instruction_shaped(sentence: str) -> bool:
    """Whether one sentence tells a model reading it what to output."""
    if _PROMPT_MARKUP.search(sentence):
        return True
    if not _VERDICT.search(sentence):
        return False
    if _TO_READER.search(sentence):
        return True
    opening = _VOCATIVE.match(sentence)
    if opening and _ADDRESSEE.search(opening.group()):
        return True
    spoken_to = _ADDRESSEE.search(sentence) or _SELF.search(sentence)
    return bool(spoken_to and _DIRECTIVE.search(sentence))


def instruction_sentences(text: str) -> list[str]:
    """The instruction-shaped sentences of a text, in order."""
    return [s for s in _SENTENCE.split(text) if s.strip() and instruction_shaped(s)]
