"""Expected message text for tests, in whatever language is active and whether or not the
translations are compiled.

The code builds its messages as `gettext(msgid) % params`; so do these helpers, so a test checks
the very message the code means, not the English source text (the portal shows zh-hans, and
`make test` compiles locale/ first).

- `message(msgid, **params)`: the whole message, when every value in it is known.
- `message_parts(text, msgid, **known)`: asserts that `text` is that message with the `known`
  values in it, and returns the other values (a database's or an OS's own error text, say) so
  the test can check the language-independent part it cares about.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

_PLACEHOLDER = re.compile(r"%%|%\((?P<name>\w+)\)(?P<spec>[-#0 +]*\d*(?:\.\d+)?[sdifr])")


def message(msgid: str, /, **params) -> str:
    """`gettext(msgid) % params`, exactly as the code builds it."""
    text = gettext(msgid)
    return text % params if params else text


def message_pattern(msgid: str, /, **known) -> re.Pattern:
    """A pattern for `gettext(msgid) % params` with the `known` values in place; each other
    placeholder matches any text and is captured under its name."""
    translated = gettext(msgid)
    parts, seen, position = [], set(), 0
    for found in _PLACEHOLDER.finditer(translated):
        parts.append(re.escape(translated[position : found.start()]))
        position = found.end()
        name = found.group("name")
        if name is None:
            parts.append("%")
        elif name in known:
            parts.append(re.escape(("%" + found.group("spec")) % known[name]))
        elif name in seen:
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            parts.append(f"(?P<{name}>.*?)")
    parts.append(re.escape(translated[position:]))
    return re.compile("".join(parts), re.DOTALL)


def message_parts(text: str, msgid: str, /, **known) -> dict[str, str]:
    """Assert that `text` is the message `msgid` with the `known` values; return the others."""
    pattern = message_pattern(msgid, **known)
    found = pattern.fullmatch(text or "")
    assert found, f"{text!r} is not the message {pattern.pattern!r}"
    return found.groupdict()
