"""A message as it is read out on a call: no link, no 点击 instruction, lines as sentences, the key prompt
at the end (pure)."""

from __future__ import annotations

import re

from fangxun.warnings.delivery.channels.text import fit_chars

KEY_PROMPT = "按1确认收到，按2重听。"
# The prompt of a message that asks for no 叫应 (an all-clear).
REPEAT_PROMPT = "按2重听。"
_URL = re.compile(r"https?://\S+")
# A clause asking to click (a link or a button) means nothing on the phone.
_CLICK = re.compile(r"点击|点此|点开|链接")
# "请督促落实并点击确认": what comes before 并 is an instruction of its own.
_AND_CLICK = re.compile(r"并(?:请)?(?:点击|点此|点开)")
_CLAUSE_END = "，,。；;！!？?"
_SENTENCE_END = "。！？!?…"
_TRIM = " \t\u3000：:，,、；;"


def spoken_line(line: str) -> str:
    """One line without links and without its clauses that ask to click; blank when nothing is left."""
    line = _URL.sub("", line)
    kept = []
    for clause in re.split(f"(?<=[{_CLAUSE_END}])", line):
        if not _CLICK.search(clause):
            kept.append(clause)
            continue
        joined = _AND_CLICK.search(clause)
        if joined and clause[:joined.start()].strip(_TRIM):
            kept.append(clause[:joined.start()] + "，")
    return "".join(kept).strip(_TRIM)


def spoken(text: str) -> str:
    """`text` as sentences to be read out: each non-blank line ends with a full stop."""
    sentences = []
    for line in text.splitlines():
        line = spoken_line(line)
        if line:
            sentences.append(line if line[-1] in _SENTENCE_END else line + "。")
    return "".join(sentences)


def speech_text(title: str, text: str, max_chars: int = 500, ack_url: str = "", asks_ack: bool = True) -> str:
    """What the call says: the title, the text, then 按1确认收到，按2重听 (kept whole when the text is cut); only
    按2重听 when the message asks for no 叫应 (an all-clear)."""
    if ack_url:
        title, text = title.replace(ack_url, ""), text.replace(ack_url, "")
    return fit_chars(spoken(title), spoken(text), KEY_PROMPT if asks_ack else REPEAT_PROMPT, max_chars)
