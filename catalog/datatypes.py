"""The data types of the national catalog guide (GB/T 21063), shared by data items and data
elements."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataType(models.TextChoices):
    C = "C", _("C character string")
    N = "N", _("N number")
    Y = "Y", _("Y currency")
    D = "D", _("D date")
    T = "T", _("T date and time")
    L = "L", _("L logical")
    M = "M", _("M memo (long text)")
    G = "G", _("G general (binary)")
    B = "B", _("B double precision")
    I = "I", _("I integer")  # noqa: E741
    F = "F", _("F floating point")
