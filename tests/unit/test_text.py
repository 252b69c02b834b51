"""Uploaded and typed text shown as Markdown reads exactly as typed."""

from __future__ import annotations

import re
import string

import pytest

from ui.text import WORD_JOINER, code_span, escape_markdown

PAYLOADS = [
    "![x](http://evil.example/x.png)",
    "[click](http://evil.example)",
    "**bold** _it_ `code` ~~gone~~",
    "<img src=x onerror=alert(1)> <b>tag</b>",
    '=HYPERLINK("http://evil.example","x")',
    "# Heading",
    "1. list",
    "- item",
    "| a | b |",
    "$x^2$ costs $5",
    ":material/home: :red[text]",
    "&lt; &amp;",
    "back\\slash \\*",
    "Łódź — 東京 100%",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_every_markdown_character_is_escaped_and_reads_back_as_typed(text: str) -> None:
    # CommonMark (which Streamlit's Markdown follows) shows a backslash-escaped ASCII punctuation
    # character as itself, and nothing escaped can open a link, image, emphasis, code or HTML.
    escaped = escape_markdown(text)
    assert re.sub(r"\\(.)", r"\1", escaped).replace(WORD_JOINER, "") == text
    bare = re.sub(r"\\.", "", escaped)
    assert not set(bare) & set(string.punctuation), bare


@pytest.mark.parametrize(("text", "expected"), [
    ("a\nb", "a b"), ("a \r\n  b", "a b"), (42, "42"), (None, "None"),
])
def test_line_breaks_become_spaces_and_any_value_is_shown(text: object, expected: str) -> None:
    assert escape_markdown(text) == expected


def test_nothing_that_starts_markdown_is_left_bare() -> None:
    escaped = escape_markdown("![x](http://e.example)")
    assert escaped == f"\\!\\[x\\]\\(http{WORD_JOINER}\\:\\/\\/e\\.example\\)"


# GFM's autolink rule (as remark-gfm applies it): an address after the start, a space or a
# punctuation mark, or a mail address, becomes a link even when every character is escaped.
_URL = re.compile(r"(?:^|(?<=[\s\W]))(?:https?://|www\.)[-.\w]+\.\w", re.IGNORECASE)
_MAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


@pytest.mark.parametrize("text", [
    "http://evil.example/x.png", "see https://evil.example", "(www.evil.example)",
    "HTTP://EVIL.EXAMPLE", "ann@evil.example", "mailto:ann@evil.example",
])
def test_bare_addresses_cannot_become_links_once_the_escapes_are_resolved(text: str) -> None:
    assert _URL.search(text) or _MAIL.search(text)  # the rule would link the raw text
    resolved = re.sub(r"\\(.)", r"\1", escape_markdown(text))
    assert not _URL.search(resolved) and not _MAIL.search(resolved), resolved
    assert resolved.replace(WORD_JOINER, "") == text


def _read_code_span(markdown: str) -> str:
    """Read a Markdown text that is one code span as CommonMark does (the fence, then the text)."""
    fence = re.match(r"`+", markdown)
    assert fence is not None, markdown
    n = len(fence.group())
    assert markdown.endswith(fence.group()) and not markdown.endswith("`" * (n + 1))
    inner = markdown[n:-n]
    # No run of exactly n backticks inside: it would close the span early.
    assert all(len(run) != n for run in re.findall(r"`+", inner)), markdown
    if len(inner) > 2 and inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]
    return inner


@pytest.mark.parametrize("text", [
    "http://localhost:8501/make_your_number?myn=1.a38f.55___&role=ceo",
    "a `tick` and ``two``", "`starts", "ends`", "*not* [a](link) $x$ :red[no]",
])
def test_a_code_span_reads_back_exactly_as_the_text(text: str) -> None:
    span = code_span(text)
    assert _read_code_span(span) == text
    assert WORD_JOINER not in span and "\\" not in span  # copied as is: nothing added


def test_a_code_span_is_one_line() -> None:
    assert code_span("first\nsecond") == "`first second`"
