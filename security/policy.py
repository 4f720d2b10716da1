"""Reads of the grade policy for other apps."""

from __future__ import annotations

from .models import Grade


def grade_list():
    return Grade.objects.all()


def highest_grade() -> Grade | None:
    return Grade.objects.order_by("-rank").first()


def grade_by_pk(pk) -> Grade | None:
    return Grade.objects.filter(pk=pk).first()
