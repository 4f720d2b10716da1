"""Demo data: each app registers a seeder, `seed_demo` runs them in order. A seeder must be
idempotent (running it twice leaves the same data) and must not need files from outside the
repository."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seeder:
    name: str
    order: int
    run: Callable[[dict], None]  # takes and fills a shared context (e.g. the demo users)


_SEEDERS: dict[str, Seeder] = {}


def register_seeder(seeder: Seeder) -> None:
    _SEEDERS[seeder.name] = seeder


def seeders() -> list[Seeder]:
    return sorted(_SEEDERS.values(), key=lambda s: (s.order, s.name))
