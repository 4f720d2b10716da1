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


_RUNS = re.compile(f"{CJK_RUN.pattern}|{WORD.pattern}")


def _run_tokens(run: str) -> list[str]:
    if CJK_RUN.fullmatch(run):
        if len(run) == 1:
            return [run]
        return [run[i : i + 2] for i in range(len(run) - 1)]
    return [run[:100]]


def tokens(text: str) -> list[str]:
    """The index terms of `text`: character bigrams of Chinese runs (a lone character stays
    itself) and Latin words and numbers, lower-cased, in order of appearance."""
    out: list[str] = []
    for match in _RUNS.finditer((text or "").lower()):
        out.extend(_run_tokens(match.group(0)))
    return out


def document(*parts: tuple[str, str]) -> str:
    """A tsvector literal from (text, weight) parts, e.g. (name, "A"), (summary, "B")."""
    lexemes: dict[str, list[str]] = {}
    position = 0
    for text, weight in parts:
        previous_end = -1
        for match in _RUNS.finditer((text or "").lower()):
            # A gap between runs (and between parts) keeps a phrase query from matching
            # across a punctuation mark or from the end of the name into the summary.
            if previous_end != -1 and match.start() != previous_end:
                position += 1
            previous_end = match.end()
            for tok in _run_tokens(match.group(0)):
                position = min(position + 1, MAX_POSITION)
                lexemes.setdefault(tok, []).append(f"{position}{weight}")
        position += 1
    return " ".join(f"'{tok}':{','.join(p[:256])}" for tok, p in lexemes.items())


def query(q: str) -> tuple[str | None, list[str]]:
    """(tsquery literal or None, the terms the index cannot answer) for a search box input.

    Each whitespace-separated term becomes a phrase of its bigrams (`'户籍' <-> '籍人' <->
    '人口'`): adjacent positions, so the index answers exactly "contains this substring".
    Terms the index cannot answer - a lone Chinese character, or a term whose Chinese runs
    are broken by punctuation - are returned for the caller to check by substring.
    """
    terms = [t for t in (q or "").split() if t][:10]
    phrases: list[str] = []
    unindexed: list[str] = []
    for term in terms:
        runs = _RUNS.findall(term.lower())
        if not runs:
            continue  # punctuation only: matches nothing useful, ignore it
        if len(runs) > 1 and "".join(runs) != term.lower():
            unindexed.append(term)
            continue
        toks = [t for run in runs for t in _run_tokens(run)]
        if any(len(t) == 1 and CJK_RUN.fullmatch(t) for t in toks):
            unindexed.append(term)
            continue
        # A Latin word or number at the end of a term matches as a prefix ("gd" finds "gdp").
        last = toks[-1]
        quoted = [f"'{t}'" for t in toks[:-1]] + [
            f"'{last}':*" if WORD.fullmatch(last) else f"'{last}'"
        ]
        phrases.append("(" + " <-> ".join(quoted) + ")")
    tsquery = " & ".join(dict.fromkeys(phrases)) if phrases else None
    return tsquery, unindexed
