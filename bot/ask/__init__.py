"""Questions about one paper, answered from its full text in the thread where it was posted.

passages.py cuts the explain parser's PaperExtract into cited passages (cached per version in
Redis by bot.store.passages); retrieve.py ranks them for a question with BM25 and tells when the
paper does not answer; conversation.py is a mention and a thread's turns (bot.store.conversations);
prompt.py and check.py are the Claude request (the paper fenced as untrusted data) and the checks
on its answer; bot.records.Answer is the typed result that bot.render.answer shows. service.py (Asker)
wires them beside the Explainer, quoting the best passages when Claude is not used.
"""

from bot.ask.conversation import Mention, Turn
from bot.ask.passages import PaperText, Passage
from bot.records import Answer, AnswerKind

__all__ = ["Answer", "AnswerKind", "Mention", "PaperText", "Passage", "Turn"]
