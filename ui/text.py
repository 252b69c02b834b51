"""Text that came from a file, a form or a content bank, made safe to show as Markdown.

Streamlit renders Markdown (and ``$…$`` as LaTeX) in ``st.markdown``, captions, alerts, titles,
metric and widget labels, expander labels and radio options. Uploaded or typed text shown there
must read exactly as typed: an image in a rep name would make every viewer's browser fetch an
outside address, and a link could sit inside the app's own boxes.
"""

from __future__ import annotations

import re

__all__ = ["WORD_JOINER", "code_span", "escape_markdown"]

# CommonMark lets a backslash escape any ASCII punctuation, and the escaped character always shows
# as itself: escaping all of it also covers Streamlit's extras ($ for LaTeX, :icon: and :red[…]).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# A line break would end a list item, start a heading or a table row: one line is shown instead.
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
# GitHub-flavoured Markdown turns a bare address (http://…, www.…, name@host) into a link after the
# escapes are resolved, so a backslash cannot stop it. An invisible word joiner after "http",
# "www" or "@" breaks the pattern and leaves the text reading as typed.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(https?(?=:)|www(?=\.)|@)", re.IGNORECASE)


def escape_markdown(text: object) -> str:
    """Return ``text`` (any value, shown with ``str``) escaped to read literally as Markdown."""
    one_line = _LINE_BREAKS.sub(" ", str(text))
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(rf"\1{WORD_JOINER}", one_line))


def code_span(text: object) -> str:
    """Return ``text`` as a Markdown code span: shown literally, in one line, copied as is.

    Nothing inside a code span is Markdown (no links, no LaTeX, no escapes), so the text needs no
    backslashes or word joiners, which would be copied along with it (a link that no longer
    works). Only backticks could end the span: the fence is one backtick longer than the longest
    run of them in the text, with a space inside when the text starts or ends with one.
    """
    one_line = _LINE_BREAKS.sub(" ", str(text))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"
