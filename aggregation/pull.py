"""API pull: the platform calls an agency's HTTP API (JSON, paged) and spools the rows to CSV.

Settings (`Channel.config`, see channels.SETTINGS): `url`; `page_param` / `size_param` with
`page_size` and `first_page` (pages are asked for until one comes back empty or shorter than
`page_size`; without a page parameter the API is called once); `records_path` (dotted path to
the list of rows in the answer, e.g. `data.items`; empty: the answer is the list);
`watermark_param` (incremental runs send the channel's watermark under this name, so the API
returns only rows changed since); `timeout_seconds`; `max_retries`. The channel's secret, if
any, is sent as `Authorization: Bearer <secret>`.

Transient failures (connection errors, timeouts, 5xx, 429) are retried with exponential
backoff; other 4xx answers and answers that are not the expected JSON are not, since asking
again gives the same answer. Total pages and bytes are capped. After the retries the fetcher
raises `SourceUnavailable` with a message the agency can act on, and the batch fails with the
previous data intact.

Where the platform may connect is decided by the one guarded client of the kernel
(wuhan_pdr/kernel/outbound.py, decision 0010): the API's host is resolved once when the pull
starts, every address it has is checked, and every page is fetched from a checked address
(HTTPS still checks the certificate for the host name). Loopback, link-local, metadata and
reserved addresses, IPv6 forms of them and the platform's own hosts are refused; private and
CGNAT ranges only inside `AGGREGATION_PULL_ALLOWED_NETWORKS`; loopback and the platform's own
machine only where `AGGREGATION_PULL_ALLOW_LOOPBACK` is on (tests, development; production
forces it off). Redirects are not followed (an answer may not send the platform elsewhere) and
proxies from the environment are ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext as _

from wuhan_pdr.kernel import outbound

from .channels import DEFAULTS, SourceUnavailable, channel_secret
from .datastore import published_columns
from .loading import CsvSource, open_csv, rows_to_csv
from .models import Batch, ChannelKind

MAX_PAGES = getattr(settings, "AGGREGATION_PULL_MAX_PAGES", 20_000)
MAX_BYTES = getattr(settings, "AGGREGATION_PULL_MAX_BYTES", 2 * 1024**3)
MAX_PAGE_BYTES = getattr(settings, "AGGREGATION_PULL_MAX_PAGE_BYTES", 200 * 1024**2)
BACKOFF_SECONDS = getattr(settings, "AGGREGATION_PULL_BACKOFF_SECONDS", 1.0)
MAX_BACKOFF_SECONDS = 30.0
READ_BLOCK = 64 * 1024


class _Transient(Exception):
    """A failure worth asking again for; `retry_after` (seconds) when the server said."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def policy() -> outbound.Policy:
    """Where API pull may connect (settings `AGGREGATION_PULL_ALLOWED_NETWORKS` and
    `AGGREGATION_PULL_ALLOW_LOOPBACK`)."""
    return outbound.Policy.from_settings("AGGREGATION_PULL")


def destination(url: str, *, resolver=None) -> outbound.Destination:
    """The API's host resolved once and checked against the policy, or SourceUnavailable."""
    try:
        return outbound.resolve_url(url, policy=policy(), resolver=resolver)
    except outbound.Unresolvable as exc:
        raise SourceUnavailable(
            _("The API address %(host)s cannot be resolved: %(error)s")
            % {"host": exc.host, "error": exc.error}
        ) from exc
    except outbound.OutboundError as exc:
        raise SourceUnavailable(str(exc)) from exc


def page_url(url: str, params: dict) -> str:
    """`url` with `params` added to (or replacing those in) its query string."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _get(opener, url: str, headers: dict, timeout: float, byte_budget: int) -> bytes:
    """One GET through the destination's `opener`; raises _Transient for what may pass,
    SourceUnavailable for what will not."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceUnavailable(_("Give an http or https address."))
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 (checked)
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            chunks, size = [], 0
            limit = min(MAX_PAGE_BYTES, byte_budget)
            while block := response.read(READ_BLOCK):
                size += len(block)
                if size > limit:
                    raise SourceUnavailable(
                        _("The API answered more than %(mb)d MB; the pull stops there.")
                        % {"mb": max(1, limit // 1024**2)}
                    )
                if time.monotonic() > deadline:
                    raise _Transient(_("the answer took longer than %(s)s s") % {"s": timeout})
                chunks.append(block)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        code = exc.code
        if code == 429 or code >= 500:
            retry_after = None
            with contextlib.suppress(TypeError, ValueError):
                retry_after = float(exc.headers.get("Retry-After", ""))
            raise _Transient(_("HTTP %(code)d") % {"code": code}, retry_after) from exc
        if 300 <= code < 400:
            raise SourceUnavailable(
                _("The API redirected to %(target)s; give that address in the channel's settings.")
                % {"target": (exc.headers.get("Location") or "?")[:200]}
            ) from exc
        if code in (401, 403):
            raise SourceUnavailable(
                _("The API refused the platform's credential (HTTP %(code)d).") % {"code": code}
            ) from exc
        raise SourceUnavailable(
            _("The API answered HTTP %(code)d %(reason)s.")
            % {"code": code, "reason": str(exc.reason)[:100]}
        ) from exc
    except outbound.OutboundError as exc:
        raise SourceUnavailable(str(exc)) from exc
    except TimeoutError as exc:
        raise _Transient(_("no answer within %(s)s s") % {"s": timeout}) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _Transient(_("no answer within %(s)s s") % {"s": timeout}) from exc
        raise _Transient(str(reason)[:200]) from exc
    except (ConnectionError, OSError) as exc:
        raise _Transient(str(exc)[:200]) from exc


def _get_with_retries(
    opener, url: str, headers: dict, *, timeout: float, retries: int, byte_budget: int, page: int
) -> bytes:
    attempt = 0
    while True:
        try:
            return _get(opener, url, headers, timeout, byte_budget)
        except _Transient as exc:
            if attempt >= retries:
                raise SourceUnavailable(
                    _(
                        "The API could not be reached for page %(page)d after %(n)d attempts: "
                        "%(error)s."
                    )
                    % {"page": page, "n": attempt + 1, "error": exc}
                ) from exc
            wait = BACKOFF_SECONDS * (2**attempt)
            if exc.retry_after is not None and math.isfinite(exc.retry_after):
                wait = max(wait, exc.retry_after)
            time.sleep(min(max(wait, 0.0), MAX_BACKOFF_SECONDS))
            attempt += 1


def records_at(document, path: str, page: int) -> list:
    """The list of rows at the dotted `path` of an answer."""
    node = document
    for part in [p for p in (path or "").split(".") if p]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SourceUnavailable(
                _("Page %(page)d of the answer has no “%(path)s”; check the rows' path.")
                % {"page": page, "path": path}
            )
    if not isinstance(node, list):
        raise SourceUnavailable(
            _("Page %(page)d: the rows' path “%(path)s” does not lead to a list.")
            % {"page": page, "path": path or "."}
        )
    return node


def field_targets(channel) -> tuple[list[str], dict[str, int]]:
    """The table's column names in order, and where each field name of a record goes:
    by the channel's column mapping, the column name or the item name."""
    columns = published_columns(channel.resource)
    header = [c.name for c in columns]
    index = {c.name: i for i, c in enumerate(columns)}
    targets = {c.item: index[c.name] for c in columns}
    targets |= {c.name: index[c.name] for c in columns}
    targets |= {c.name.upper(): index[c.name] for c in columns}
    for source, target in (channel.column_mapping or {}).items():
        if target in index:
            targets[str(source)] = index[target]
    return header, targets


def _cell(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def fetch(batch: Batch, workdir: Path, *, progress=None) -> CsvSource:
    """Pull the agency API's rows, page by page, into a CSV spool in `workdir`."""
    channel = batch.channel
    config = {**DEFAULTS[ChannelKind.API_PULL], **(channel.config or {})}
    url = config.get("url") or ""
    if not url:
        raise SourceUnavailable(_("The channel has no API address."))
    # Resolved and checked once: every page goes to these addresses (no second lookup).
    opener = destination(url).opener()
    page_param = config.get("page_param") or ""
    size_param = config.get("size_param") or ""
    page_size = int(config.get("page_size") or 0)
    page = int(config.get("first_page") or 0)
    timeout = max(1, int(config.get("timeout_seconds") or 10))
    retries = max(0, int(config.get("max_retries") or 0))
    headers = {"Accept": "application/json", "User-Agent": "wuhan-pdr-pull/1"}
    secret = channel_secret(channel)
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    params: dict = {}
    if size_param and page_size:
        params[size_param] = page_size
    if batch.mode == Batch.Mode.INCREMENTAL and config.get("watermark_param") and channel.watermark:
        params[config["watermark_param"]] = channel.watermark
    header, targets = field_targets(channel)
    width = len(header)
    state = {"bytes": 0, "pages": 0}

    def rows():
        current = page
        previous_digest = None
        while True:
            if state["pages"] >= MAX_PAGES:
                raise SourceUnavailable(
                    _("The API returned more than %(n)d pages; the pull stops there.")
                    % {"n": MAX_PAGES}
                )
            query = dict(params)
            if page_param:
                query[page_param] = current
            raw = _get_with_retries(
                opener,
                page_url(url, query),
                headers,
                timeout=timeout,
                retries=retries,
                byte_budget=MAX_BYTES - state["bytes"],
                page=current,
            )
            state["bytes"] += len(raw)
            state["pages"] += 1
            try:
                document = json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise SourceUnavailable(
                    _("Page %(page)d of the API's answer is not JSON: %(error)s")
                    % {"page": current, "error": str(exc)[:200]}
                ) from exc
            records = records_at(document, config.get("records_path") or "", current)
            digest = hashlib.sha256(raw).hexdigest()
            if records and digest == previous_digest:
                raise SourceUnavailable(
                    _(
                        "Page %(page)d is the same as the page before: the API ignores the "
                        "page parameter “%(param)s”."
                    )
                    % {"page": current, "param": page_param}
                )
            previous_digest = digest
            for n, record in enumerate(records, start=1):
                if not isinstance(record, dict):
                    raise SourceUnavailable(
                        _("Page %(page)d, row %(row)d of the answer is not an object.")
                        % {"page": current, "row": n}
                    )
                row = [None] * width
                for key, value in record.items():
                    position = targets.get(key)
                    if position is not None:
                        row[position] = _cell(value)
                yield row
            if progress:
                progress(min(5, 1 + state["pages"]))
            if not page_param or not records or (page_size and len(records) < page_size):
                return
            current += 1

    spool = workdir / "pull.csv"
    rows_to_csv(spool, header, rows())
    batch_bytes = state["bytes"]
    Batch.objects.filter(pk=batch.pk).update(bytes_received=batch_bytes)
    batch.bytes_received = batch_bytes
    return open_csv(spool)
