"""The four channel kinds (Art. 8): their settings, and how each fetches a batch's rows.

Every kind's fetcher turns its source into a CSV spool with a header row (`CsvSource`) that
the loader streams into PostgreSQL:

- `file`: the uploaded file itself (a workbook is converted to CSV first);
- `push`: the JSON chunks the front-end machine sent, in chunk order;
- `api_pull`: the agency's HTTP API, page by page (aggregation/pull.py);
- `db_extract`: a query on the agency's PostgreSQL or MySQL/MariaDB database
  (aggregation/extract.py).

Settings live in `Channel.config` (validated by `clean_config`); passwords and API keys in
`Channel.secret`, never shown again once saved.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from django.core.files import File
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security import zones
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.sealed_files import SealedFileError, clear_copy, sealed_temporary
from wuhan_pdr.kernel.sealing import seal, unseal

from .datastore import published_columns, resource_zone
from .loading import CsvSource, LoadRefused, file_is_text_csv, open_csv, rows_to_csv, xlsx_to_csv
from .models import Batch, Channel, ChannelKind, DatastoreTable, PushChunk


class SourceUnavailable(Exception):
    """The agency's source could not be reached or answered wrongly (after retries)."""


def channel_secret(channel: Channel) -> str:
    """The channel's credential in clear (it is stored sealed: wuhan_pdr.kernel.sealing), for
    the fetchers only; pages never show it."""
    try:
        return unseal(channel.secret)
    except ValueError as exc:
        raise SourceUnavailable(
            _("The channel's credential cannot be read with the configured keys: enter it again.")
        ) from exc


IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$")

# Settings of each kind: name -> (label, required, kind of value).
SETTINGS: dict[str, dict[str, tuple]] = {
    ChannelKind.FILE: {},
    ChannelKind.PUSH: {},
    ChannelKind.API_PULL: {
        "url": (gettext_lazy("API address (http or https)"), True, "url"),
        "records_path": (
            gettext_lazy(
                "Where the rows are in the answer (e.g. data.items; empty: the answer is the list)"
            ),
            False,
            "text",
        ),
        "page_param": (gettext_lazy("Name of the page-number parameter"), False, "text"),
        "size_param": (gettext_lazy("Name of the page-size parameter"), False, "text"),
        "page_size": (gettext_lazy("Rows per page"), False, "int"),
        "first_page": (gettext_lazy("Number of the first page"), False, "int"),
        "watermark_param": (
            gettext_lazy("Parameter that asks for rows changed after the watermark"),
            False,
            "text",
        ),
        "timeout_seconds": (gettext_lazy("Timeout per request (seconds)"), False, "int"),
        "max_retries": (gettext_lazy("Retries per request"), False, "int"),
    },
    ChannelKind.DB_EXTRACT: {
        "engine": (gettext_lazy("Database kind (postgresql or mysql)"), True, "engine"),
        "host": (gettext_lazy("Host"), True, "host"),
        "port": (gettext_lazy("Port"), True, "int"),
        "database": (gettext_lazy("Database name"), True, "text"),
        "user": (gettext_lazy("User (read-only)"), True, "text"),
        "table": (gettext_lazy("Table (or give a query)"), False, "identifier"),
        "query": (gettext_lazy("Query (a single SELECT)"), False, "query"),
        "timeout_seconds": (gettext_lazy("Timeout (seconds)"), False, "int"),
    },
}
DEFAULTS = {
    ChannelKind.API_PULL: {
        "page_param": "page",
        "size_param": "size",
        "page_size": 500,
        "first_page": 1,
        "timeout_seconds": 10,
        "max_retries": 3,
    },
    ChannelKind.DB_EXTRACT: {"timeout_seconds": 60},
}
# The range of each whole-number setting (inclusive), so that no channel can ask for a
# million retries or a day-long timeout. The form and `clean_config` both use it.
BOUNDS: dict[str, dict[str, tuple[int, int]]] = {
    ChannelKind.API_PULL: {
        "page_size": (1, 10_000),
        "first_page": (0, 1),
        "timeout_seconds": (1, 300),
        "max_retries": (0, 10),
    },
    ChannelKind.DB_EXTRACT: {
        "port": (1, 65535),
        # The statement timeout of one extraction query: a large table may take a while,
        # within the load's own time limit (settings.CELERY_LONG_TASK_TIME_LIMITS).
        "timeout_seconds": (1, 3600),
    },
}


def setting_bounds(kind: str, name: str) -> tuple[int, int]:
    """The (lowest, highest) value a whole-number setting takes."""
    return BOUNDS.get(kind, {}).get(name, (0, 1_000_000))


def bounds_message(label, low: int, high: int) -> str:
    return _("%(field)s must be a whole number from %(low)d to %(high)d.") % {
        "field": label,
        "low": low,
        "high": high,
    }


def clean_config(kind: str, config: dict) -> dict:
    """Validate and normalise a channel's settings; refuses with the field named."""
    spec = SETTINGS.get(kind, {})
    if not isinstance(config, dict):
        raise DomainError(_("Settings must be a set of named values."), field="config")
    cleaned = dict(DEFAULTS.get(kind, {}))
    for name, value in config.items():
        if name not in spec:
            continue
        label, _required, vkind = spec[name]
        if value in (None, ""):
            continue
        if vkind == "int":
            low, high = setting_bounds(kind, name)
            try:
                if isinstance(value, bool):
                    raise TypeError(value)
                value = value if isinstance(value, int) else int(str(value).strip())
            except (TypeError, ValueError):
                raise DomainError(bounds_message(label, low, high), field=name) from None
            if not low <= value <= high:
                raise DomainError(bounds_message(label, low, high), field=name)
        elif vkind == "url":
            value = str(value).strip()
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise DomainError(_("Give an http or https address."), field=name)
        elif vkind == "host":
            value = _clean_host(value, label, name)
        elif vkind == "engine":
            if value not in ("postgresql", "mysql"):
                raise DomainError(_("The database kind is postgresql or mysql."), field=name)
        elif vkind == "identifier":
            value = str(value).strip()
            if not IDENTIFIER.match(value):
                raise DomainError(
                    _("A table name is letters, digits and _ (schema.table allowed)."), field=name
                )
        elif vkind == "query":
            value = str(value).strip().rstrip(";")
            if not re.match(r"(?is)^\s*(select|with)\b", value) or ";" in value:
                raise DomainError(_("The query must be one SELECT statement."), field=name)
        else:
            value = str(value).strip()[:500]
        cleaned[name] = value
    if kind == ChannelKind.DB_EXTRACT and cleaned.get("table") and cleaned.get("query"):
        raise DomainError(_("Give a table or a query, not both."), field="query")
    return cleaned


HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9][A-Za-z0-9-]{0,62}(\.[A-Za-z0-9-]{1,63})*\.?$")


def _clean_host(value, label, name: str) -> str:
    """One host name or IP address: no Unix socket path, host list or port, which would let
    the driver connect somewhere the outbound address policy (wuhan_pdr/kernel/outbound.py)
    never checked. Whether the platform may connect there is decided when it connects (the
    name is resolved then, and the PostgreSQL server asked which it is: aggregation/extract.py)."""
    text = str(value).strip()
    try:
        ipaddress.ip_address(text.strip("[]"))
        return text.strip("[]")
    except ValueError:
        pass
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    if not HOST_NAME.match(ascii_name):
        raise DomainError(
            _("%(field)s: give one host name or IP address (no socket path, list or port).")
            % {"field": label},
            field=name,
        )
    return text


def missing_settings(channel: Channel) -> list[str]:
    """Labels of the required settings a channel lacks (activation is refused until set)."""
    spec = SETTINGS.get(channel.kind, {})
    config = channel.config or {}
    missing = [
        str(label)
        for name, (label, required, _k) in spec.items()
        if required and config.get(name) in (None, "")
    ]
    if channel.kind == ChannelKind.DB_EXTRACT and not (config.get("table") or config.get("query")):
        missing.append(_("a table or a query"))
    if channel.kind == ChannelKind.PUSH and not channel.token_hash:
        missing.append(_("a push token"))
    return missing


# --- Fetchers --------------------------------------------------------------------------------

Fetcher = Callable[..., CsvSource]


def fetch_file(batch: Batch, workdir: Path, *, progress=None) -> CsvSource:
    """The uploaded (or kept) file as CSV; a sealed one (a zone resource's) is opened into
    the work directory, which the batch removes when it ends."""
    if not batch.source_file:
        raise LoadRefused(_("The uploaded file is gone; upload it again."))
    path = Path(batch.source_file.path)
    try:
        path = clear_copy(path, workdir / f"source{path.suffix.lower()}")
    except FileNotFoundError as exc:
        raise LoadRefused(_("The uploaded file is gone; upload it again.")) from exc
    except SealedFileError as exc:
        raise LoadRefused(
            _("The kept file cannot be opened with the configured keys; upload it again.")
        ) from exc
    if path.suffix.lower() == ".xlsx":
        spool = workdir / "workbook.csv"
        xlsx_to_csv(path, spool)
        return open_csv(spool)
    if not file_is_text_csv(path):
        raise LoadRefused(_("The file is not a text CSV file."))
    return open_csv(path)


def fetch_push(batch: Batch, workdir: Path, *, progress=None) -> CsvSource:
    """The pushed rows, chunk by chunk in number order, as CSV. Each row is an object whose
    keys are column names or item names."""
    columns = published_columns(batch.channel.resource)
    names = {c.name: c.name for c in columns} | {c.item: c.name for c in columns}
    mapping = {str(k): v for k, v in (batch.channel.column_mapping or {}).items()}
    header = [c.name for c in columns]
    index = {name: i for i, name in enumerate(header)}

    origins: list[tuple[int, int]] = []

    def rows():
        seen = 0
        for chunk in batch.chunks.order_by("number").iterator(chunk_size=20):
            origins.append((chunk.number, seen))
            kept = chunk_rows(chunk)
            seen += len(kept)
            for n, obj in enumerate(kept, start=1):
                if not isinstance(obj, dict):
                    raise LoadRefused(
                        _("Chunk %(chunk)d, row %(row)d is not an object.")
                        % {"chunk": chunk.number, "row": n}
                    )
                row = [None] * len(header)
                for key, value in obj.items():
                    target = mapping.get(key) or names.get(key)
                    if target is None:
                        raise LoadRefused(
                            _("Chunk %(chunk)d, row %(row)d: unknown field “%(field)s”.")
                            % {"chunk": chunk.number, "row": n, "field": str(key)[:60]}
                        )
                    row[index[target]] = value
                yield row

    spool = workdir / "push.csv"
    rows_to_csv(spool, header, rows())
    source = open_csv(spool)
    source.origins = origins
    return source


FETCHERS: dict[str, Fetcher | str] = {
    ChannelKind.FILE: fetch_file,
    ChannelKind.PUSH: fetch_push,
    ChannelKind.API_PULL: "aggregation.pull.fetch",
    ChannelKind.DB_EXTRACT: "aggregation.extract.fetch",
}


def fetch(batch: Batch, workdir: Path, *, progress=None) -> CsvSource:
    """Bring the batch's rows into a CSV spool in `workdir`."""
    fetcher = FETCHERS[batch.channel.kind]
    if isinstance(fetcher, str):
        fetcher = import_string(fetcher)
    return fetcher(batch, workdir, progress=progress)


def files_sealed(resource) -> bool:
    """Whether files of the resource's rows (uploads, reject files, held sources) are kept
    sealed: its grades name a restricted or sensitive zone, or its table is still in one (a
    move down not yet confirmed)."""
    if zones.is_zone(resource_zone(resource)):
        return True
    schema = (
        DatastoreTable.objects.filter(resource=resource).values_list("schema", flat=True).first()
    )
    return schema is not None and zones.is_zone(zones.zone_of_schema(schema))


def keep_file(field, name: str, content, *, resource) -> None:
    """Save `content` (a Django File or upload) into the FileField `field` of an unsaved
    change, sealed (kernel/sealed_files.py) when the resource's files are: zone data kept
    outside the database follows the zone."""
    if not files_sealed(resource):
        field.save(name, content, save=False)
        return
    with sealed_temporary(content) as spool:
        field.save(name, File(spool, name=name), save=False)


def chunk_rows_kept(channel: Channel, rows: list):
    """The rows of a chunk as they are kept until the load: a zone resource's sealed
    (`kernel/sealing.py`), so that its pushed rows are no readable copy outside the zone's
    schema (issue #13: copies of zone data follow the zone)."""
    if not zones.is_zone(resource_zone(channel.resource)):
        return rows
    return {"sealed": seal(json.dumps(rows, ensure_ascii=False))}


def chunk_rows(chunk: PushChunk) -> list:
    """The rows of a kept chunk (opened when sealed)."""
    if isinstance(chunk.rows, dict) and "sealed" in chunk.rows:
        return json.loads(unseal(chunk.rows["sealed"]))
    return chunk.rows
