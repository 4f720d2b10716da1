"""Work queues on each role's home page. A chapter app registers a source of work items
(its selectors) with `register_queue()`; the home page shows the sources the user's roles
may see, each with its items and their deadlines, or says that nothing is waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class WorkItem:
    title: str
    url: str
    state: str = ""
    deadline: dt.datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class QueueSource:
    key: str
    label: str | Promise
    roles: frozenset[str]
    items: Callable[[object], list[WorkItem]]
    order: int = 100


_QUEUES: dict[str, QueueSource] = {}


def register_queue(source: QueueSource) -> None:
    _QUEUES[source.key] = source


def queues_for(user, roles: set[str]) -> list[tuple[QueueSource, list[WorkItem]]]:
    sources = sorted(
        (q for q in _QUEUES.values() if q.roles & roles), key=lambda q: (q.order, q.key)
    )
    return [(q, q.items(user)) for q in sources]
