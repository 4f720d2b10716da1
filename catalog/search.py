"""Chinese full-text search for the public catalog, without a segmenter.

Text is indexed as overlapping character bigrams (and lower-cased Latin words and numbers),
stored as a PostgreSQL tsvector with weights (name A, summary B, provider C) under a GIN
index. Any query of two or more characters becomes the AND of its bigrams, served by the
index; the candidates are then confirmed by substring, so bigrams that occur apart in a text
do not count as a hit. See docs/decisions/0007-catalog-search-bigrams.md.
"""

from __future__ import annotations

import re

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[0-9a-z]+")
MAX_POSITION = 16383


def tokens(text: str) -> list[str]:
    """The index terms of `text`: character bigrams of Chinese runs (a lone character stays
    itself) and Latin words and numbers, lower-cased, in order of appearance."""
    out: list[str] = []
    text = (text or "").lower()
    for match in re.finditer(f"{CJK_RUN.pattern}|{WORD.pattern}", text):
        run = match.group(0)
        if CJK_RUN.fullmatch(run):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.append(run[:100])
    return out


def document(*parts: tuple[str, str]) -> str:
    """A tsvector literal from (text, weight) parts, e.g. (name, "A"), (summary, "B")."""
    lexemes: dict[str, list[str]] = {}
    position = 0
    for text, weight in parts:
        for tok in tokens(text):
            position = min(position + 1, MAX_POSITION)
            lexemes.setdefault(tok, []).append(f"{position}{weight}")
    return " ".join(f"'{tok}':{','.join(p[:256])}" for tok, p in lexemes.items())


def query(q: str) -> tuple[str | None, list[str]]:
    """(tsquery literal or None, the terms to confirm by substring) for a search box input.

    None means the input has no indexable term (e.g. one Chinese character): the caller
    falls back to a substring filter alone.
    """
    terms = [t for t in (q or "").split() if t][:10]
    toks: list[str] = []
    for term in terms:
        term_tokens = tokens(term)
        if any(len(t) == 1 and CJK_RUN.fullmatch(t) for t in term_tokens):
            continue  # a single character is not indexed; the substring check does it
        toks.extend(term_tokens)
    toks = list(dict.fromkeys(toks))
    tsquery = " & ".join(f"'{t}'" for t in toks) if toks else None
    return tsquery, terms
