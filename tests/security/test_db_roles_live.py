"""The web's and the worker's database roles suffice for the real thing: gunicorn serving the
portal as `test_<db>_web` and the real Celery worker as `test_<db>_worker` (tests/services.py)
through a provider's day: sign in, the main list pages, a resource draft filed, a file
uploaded to a channel, loaded by the worker, its rows previewed."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from django.db import connection

from aggregation.models import Batch, DatastoreTable
from catalog.models import ResourceVersion
from security.dbroles import role_name
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.aggregation.factories import make_channel
from tests.catalog.conftest import ensure_catalog_base_data
from tests.catalog.test_permissions import filing_post
from tests.services import VENV_BIN, WebServer, celery_env, database_url, wait_for

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


class Browser:
    """Just enough of a browser for Django's forms: cookies, the CSRF token, redirects."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name.startswith("csrftoken"))

    def _open(self, request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), response.geturl()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), exc.geturl()

    def get(self, path: str) -> tuple[int, str, str]:
        # The base is the test's own gunicorn on http://127.0.0.1.
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310

    def post(self, path: str, data: dict, files: dict | None = None) -> tuple[int, str, str]:
        data = {**data, "csrfmiddlewaretoken": self._csrf()}
        if not files:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            kind = "application/x-www-form-urlencoded"
        else:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in data.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            for name, (filename, content) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            kind = f"multipart/form-data; boundary={boundary}"
        request = urllib.request.Request(  # noqa: S310 (the test's own server)
            self.base + path, data=body, headers={"Content-Type": kind}, method="POST"
        )
        return self._open(request)


def _current_user_under(env: dict) -> str:
    """The database user a process with `env` connects as (the settings' DATABASE_ROLE)."""
    script = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('SELECT current_user'); print(c.fetchone()[0])"
    )
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_providers_day_with_the_web_and_the_worker_on_their_own_roles(
    celery_worker, services_env, services_log_dir
):
    ensure_catalog_base_data()
    setup = make_channel()  # a published resource of the agency with an active file channel
    staff = setup.agency.staff
    env = celery_env(
        redis_url=services_env["TEST_REDIS_URL"],
        database=database_url(connection.settings_dict),
        database_role="web",
    )
    assert _current_user_under(env) == role_name("web")
    assert _current_user_under(celery_worker.env) == role_name("worker")

    web = WebServer(services_log_dir, env).start()
    try:
        browser = Browser(web.url)
        assert browser.get("/accounts/login/")[0] == 200
        status, page, url = browser.post(
            "/accounts/login/", {"username": staff.username, "password": DEFAULT_PASSWORD}
        )
        assert status == 200 and "/accounts/login/" not in url, web.log_tail()

        for path in (
            "/",
            "/catalog/",
            "/catalog/mine/",
            f"/catalog/resources/{setup.resource.pk}/",
            "/aggregation/",
            f"/aggregation/channels/{setup.channel.pk}/",
            "/notifications/",
        ):
            status, page, _ = browser.get(path)
            assert status == 200, (path, status, web.log_tail())

        # File a resource draft.
        status, page, url = browser.post("/catalog/new/", filing_post(name="角色验证资源"))
        assert status == 200, (status, web.log_tail())
        draft = ResourceVersion.objects.get(name="角色验证资源")
        assert draft.state == ResourceVersion.State.DRAFT and f"/versions/{draft.pk}/" in url

        # Upload a file to the channel; the worker (as its role) makes the table and loads it.
        rows = "".join(f"R{i:04d},姓名{i},30,1990-01-01,10.50,\n" for i in range(1, 4))
        status, page, url = browser.post(
            f"/aggregation/channels/{setup.channel.pk}/",
            {"action": "upload", "mode": "full"},
            files={"file": ("人员.csv", (HEADER + rows).encode())},
        )
        assert status == 200 and "/aggregation/batches/" in url, (status, web.log_tail())
        batch_id = re.search(r"/aggregation/batches/([0-9a-f-]+)/", url).group(1)

        def loaded():
            batch = Batch.objects.get(pk=batch_id)
            return batch if batch.status in (Batch.Status.SUCCEEDED, Batch.Status.FAILED) else None

        try:
            batch = wait_for(loaded, timeout=90, interval=0.5, what="batch loaded")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{celery_worker.log_tail()}") from None
        assert batch.status == Batch.Status.SUCCEEDED, (batch.error, celery_worker.log_tail())
        assert batch.rows_inserted == 3

        status, page, _ = browser.get(f"/aggregation/batches/{batch_id}/")
        assert status == 200
        status, page, _ = browser.get(f"/aggregation/resources/{setup.resource.pk}/preview/")
        assert status == 200, web.log_tail()
        assert "R0001" in page and "R0003" in page
    finally:
        web.stop()

    table = DatastoreTable.objects.get(resource=setup.resource).table_name
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'datastore' AND tablename = %s",
            [table],
        )
        assert cur.fetchone()[0] == role_name("worker")
