"""Joining the sentences people typed (a reason, then a measure) without doubled punctuation.

Units end their reasons and measures however they like ("待验收后支付。", "…；", "…"); a page
that joins two of them must not print "支付。；改进措施". ``clause`` drops the trailing mark,
``join_clauses`` joins the non-empty clauses with one mark, ``sentence`` ends a clause with 。.
Used by the public pages (the 自评 line table), the disclosure snapshot pages and the texts that
prefill a rectification item."""

from __future__ import annotations

TRAILING = "。；;，,.、：: \t\r\n"


def clause(text) -> str:
    """'部分合同尾款待验收后支付。' → '部分合同尾款待验收后支付'."""
    return str(text or "").strip().rstrip(TRAILING)


def join_clauses(*parts, sep: str = "；") -> str:
    """The non-empty parts, each without its trailing mark, joined by ``sep``."""
    return sep.join(c for c in (clause(p) for p in parts) if c)


def sentence(text) -> str:
    """A clause ended by exactly one 。 ('' stays '')."""
    text = clause(text)
    return f"{text}。" if text else ""
