"""Text from the audit log made safe to show: hidden controls made visible, long text cut.

Names, emails and metadata come from whoever can write to the org; they may
hold bidirectional-override or zero-width characters that make text read
differently from what it is, or run to any length. A leaf: it imports nothing.

>>> display_text("admin\u202egnp.exe")
'admin⟨U+202E⟩gnp.exe'
"""

from __future__ import annotations

import re

# Bidirectional controls (marks, embeddings, overrides, isolates) and zero-width characters.
_HIDDEN = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def reveal_controls(text: str) -> str:
    """Return text with each bidi control and zero-width character shown as ``⟨U+XXXX⟩``.

    >>> reveal_controls("a\\u200bb")
    'a⟨U+200B⟩b'
    """
    return _HIDDEN.sub(lambda found: f"⟨U+{ord(found.group()):04X}⟩", text)


def shorten(text: str, limit: int = 300) -> str:
    """Return text cut to ``limit`` characters, with a marker saying how many were cut.

    >>> shorten("abcdef", 2)
    'ab… [4 more characters]'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters]"


def display_text(value: object, limit: int = 300) -> object:
    """Return a str with its controls revealed and cut to ``limit``; any other value unchanged.

    >>> display_text("x" * 301)[-22:], display_text(7)
    ('x… [1 more characters]', 7)
    """
    return shorten(reveal_controls(value), limit) if isinstance(value, str) else value
