"""What the public may see of a document's subject: a masked national code and a shortened name."""

from __future__ import annotations


def mask_national_code(code: str) -> str:
    """0499370899 -> 0499****99: enough to match a card in hand, never the whole code."""
    if len(code) < 7:
        return "*" * len(code)
    return code[:4] + "*" * (len(code) - 6) + code[-2:]


def mask_name(name: str) -> str:
    """«علی رضایی» -> «علی ر***»: the first name and the surname's first letter."""
    words = name.split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0][:1] + "***"
    return f"{words[0]} {words[-1][:1]}***"
