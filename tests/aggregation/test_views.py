"""The aggregation pages: channels (list, set-up, edit, actions), batches (upload round trip,
progress, bad rows, reject file, retry) and the data preview. Each page has its success test
and a forbidden-access test beside it: agency B gets 404 on agency A's records."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from aggregation import services
from aggregation.channels import channel_secret
from aggregation.models import Batch, Channel, ChannelKind, DatastoreTable
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import items_people, make_channel, security_admin
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.roles import Role

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


@pytest.fixture(autouse=True)
def _base(db):
    ensure_catalog_base_data()
    with translation.override("en"):
        yield


def client(user=None) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


def csv_rows(n: int, start: int = 1) -> str:
    return HEADER + "".join(
        f"A{i:04d},姓名{i},{20 + i % 50},1990-01-{1 + i % 28:02d},{i}.50,2025-01-02 08:00:00\n"
        for i in range(start, start + n)
    )


def load(setup, content: str, name: str = "data.csv") -> Batch:
    batch = services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile(name, content.encode()),
        acting_user=setup.agency.staff,
    )
    return services.batch_run(batch_id=batch.pk)


@pytest.fixture
def a(db):
    return make_channel(name="甲通道")


@pytest.fixture
def b(db):
    return make_channel(name="乙通道")


@pytest.fixture
def reviewer(db):
    return cf.make_city_bureau().reviewer


# --- channel list ----------------------------------------------------------------------------


def test_agency_lists_its_own_channels_only(a, b):
    response = client(a.agency.staff).get(reverse("aggregation:channels"))
    assert response.status_code == 200
    assert "甲通道" in response.text
    assert "乙通道" not in response.text


def test_bureau_lists_all_channels_and_filters_by_agency_and_kind(a, b, reviewer):
    c = client(reviewer)
    response = c.get(reverse("aggregation:channels"))
    assert "甲通道" in response.text and "乙通道" in response.text
    response = c.get(reverse("aggregation:channels"), {"agency": b.agency.org.pk})
    assert "乙通道" in response.text and "甲通道" not in response.text
    response = c.get(reverse("aggregation:channels"), {"kind": ChannelKind.PUSH})
    assert "No channel matches the filters." in response.text


def test_channel_list_is_refused_to_a_requester(a):
    requester = UserFactory(roles=[Role.REQUESTER])
    assert client(requester).get(reverse("aggregation:channels")).status_code == 404


def test_channel_list_query_count_does_not_grow_with_rows(reviewer, django_assert_max_num_queries):
    agency = cf.make_agency()
    for i in range(4):
        s = make_channel(agency=agency, name=f"通道{i}")
        load(s, csv_rows(2))
    c = client(reviewer)
    # Session, user, roles, menu and notifications (about 10), then count and page: constant.
    with django_assert_max_num_queries(16):
        response = c.get(reverse("aggregation:channels"))
    assert response.text.count("Succeeded") >= 4


def test_empty_channel_list_says_what_to_do(db):
    agency = cf.make_agency()
    response = client(agency.staff).get(reverse("aggregation:channels"))
    assert "Your agency has no channel yet." in response.text


# --- channel set-up and edit ----------------------------------------------------------------


def test_staff_sets_up_a_pull_channel_with_settings_mapping_and_secret(db):
    agency = cf.make_agency()
    version = cf.make_published(agency, cf.make_city_bureau().reviewer, items=items_people())
    resource = version.resource
    url = reverse("aggregation:channel-create") + f"?resource={resource.pk}"
    c = client(agency.staff)
    assert c.get(url).status_code == 200
    response = c.post(
        url,
        {
            "kind": ChannelKind.API_PULL,
            "name": "人员接口",
            "source_kind": "vertical_return",
            "access_requirements": "政务外网",
            "schedule": "daily",
            "column_mapping": "ID = code\n名字 = 姓名",
            "cfg_api_pull__url": "https://api.example.gov.cn/people",
            "cfg_api_pull__page_size": "200",
            "secret": "s3cret-key-value",
        },
    )
    channel = Channel.objects.get(resource=resource)
    assert response.status_code == 302
    assert response["Location"] == reverse("aggregation:channel-detail", args=[channel.pk])
    assert channel.config["url"] == "https://api.example.gov.cn/people"
    assert channel.config["page_size"] == 200
    assert channel.column_mapping == {"ID": "code", "名字": "full_name"}
    assert channel.secret.startswith("sealed1:")  # stored sealed, opened for the fetcher
    assert channel_secret(channel) == "s3cret-key-value"
    page = c.get(response["Location"]).text
    assert "s3cret-key-value" not in page
    assert "Saved (not shown)" in page


def test_mapping_errors_name_the_line(db):
    agency = cf.make_agency()
    resource = cf.make_published(agency, cf.make_city_bureau().reviewer).resource
    url = reverse("aggregation:channel-create") + f"?resource={resource.pk}"
    response = client(agency.staff).post(
        url,
        {
            "kind": ChannelKind.FILE,
            "name": "文件",
            "source_kind": "local",
            "access_requirements": "内网",
            "column_mapping": "a = full_name\nno equals sign\nb = nonexistent",
        },
    )
    assert response.status_code == 200
    assert "Line 2: write" in response.text
    assert "Line 3: “nonexistent” is not a column" in response.text
    assert not Channel.objects.filter(resource=resource).exists()


def test_bad_setting_is_shown_on_its_field(db):
    agency = cf.make_agency()
    resource = cf.make_published(agency, cf.make_city_bureau().reviewer).resource
    url = reverse("aggregation:channel-create") + f"?resource={resource.pk}"
    response = client(agency.staff).post(
        url,
        {
            "kind": ChannelKind.API_PULL,
            "name": "接口",
            "source_kind": "local",
            "access_requirements": "内网",
            "cfg_api_pull__url": "ftp://nope",
        },
    )
    assert response.status_code == 200
    assert "Give an http or https address." in response.text


def test_channel_set_up_needs_a_resource_of_ones_own_agency(a, b):
    url = reverse("aggregation:channel-create") + f"?resource={a.resource.pk}"
    assert client(b.agency.staff).get(url).status_code == 404
    chooser = client(b.agency.staff).get(reverse("aggregation:channel-create"))
    assert chooser.status_code == 200
    assert b.resource.code in chooser.text and a.resource.code not in chooser.text


def test_edit_keeps_the_secret_when_left_blank_and_needs_new_signoff_on_source_change(db):
    s = make_channel(kind=ChannelKind.FILE)
    services.channel_update(channel=s.channel, secret="old", acting_user=s.agency.staff)
    url = reverse("aggregation:channel-edit", args=[s.channel.pk])
    c = client(s.agency.staff)
    assert c.get(url).status_code == 200
    response = c.post(
        url,
        {
            "name": "改名",
            "source_kind": "district",
            "access_requirements": "新的访问要求",
            "column_mapping": "",
            "secret": "",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(pk=s.channel.pk)
    assert channel.name == "改名" and channel_secret(channel) == "old"
    assert channel.security_signoff_at is None


def test_edit_is_404_for_another_agency_and_the_bureau(a, b, reviewer):
    url = reverse("aggregation:channel-edit", args=[a.channel.pk])
    assert client(b.agency.staff).get(url).status_code == 404
    assert client(reviewer).get(url).status_code == 404


# --- channel page and its actions --------------------------------------------------------------


def test_channel_page_shows_settings_table_and_history(a):
    load(a, csv_rows(3))
    response = client(a.agency.staff).get(
        reverse("aggregation:channel-detail", args=[a.channel.pk])
    )
    assert response.status_code == 200
    text = response.text
    assert "Upload a file" in text
    assert "datastore." in text and "full_name" in text
    assert "<svg" in text and 'class="bar bar-succeeded"' in text
    assert "Change history" in text


def test_channel_page_is_404_for_another_agency(a, b):
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    assert client(b.agency.staff).get(url).status_code == 404
    assert client(b.agency.staff).post(url, {"action": "suspend"}).status_code == 404
    assert Channel.objects.get(pk=a.channel.pk).state == Channel.State.ACTIVE


def test_security_admin_signs_off_then_staff_activates(db):
    s = make_channel(activate=False)
    url = reverse("aggregation:channel-detail", args=[s.channel.pk])
    staff = client(s.agency.staff)
    refused = staff.post(url, {"action": "activate"})
    assert refused.status_code == 200
    assert "only after its security sign-off" in refused.text
    admin = client(security_admin())
    page = admin.get(url)
    assert "Record the sign-off" in page.text
    empty = admin.post(url, {"action": "signoff", "note": ""})
    assert empty.status_code == 200 and "This field is required." in empty.text
    assert admin.post(url, {"action": "signoff", "note": "已检查网络与加密"}).status_code == 302
    assert staff.post(url, {"action": "activate"}).status_code == 302
    assert Channel.objects.get(pk=s.channel.pk).state == Channel.State.ACTIVE


def test_suspend_needs_the_confirmation_form(a):
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    c = client(a.agency.staff)
    assert 'value="suspend"' in c.get(url).text
    assert c.post(url, {"action": "suspend", "reason": "维护"}).status_code == 302
    assert Channel.objects.get(pk=a.channel.pk).state == Channel.State.SUSPENDED


def test_push_token_is_shown_once(db):
    s = make_channel(kind=ChannelKind.PUSH)
    url = reverse("aggregation:channel-detail", args=[s.channel.pk])
    c = client(s.agency.staff)
    response = c.post(url, {"action": "token"})
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token.startswith("pdr_") and token in response.text
    assert "/api/v1/ingest/batches/" in response.text
    assert services.channel_for_token(token).pk == s.channel.pk
    assert token not in c.get(url).text


def run_rebuild_job() -> str:
    from wuhan_pdr.kernel.jobs import job_run
    from wuhan_pdr.kernel.models import BackgroundJob

    job = BackgroundJob.objects.get(task_name="aggregation.datastore_rebuild")
    return job_run(job_id=str(job.pk))


def test_confirming_pending_table_changes_calls_the_service(a):
    load(a, csv_rows(2))
    DatastoreTable.objects.filter(resource=a.resource).update(
        pending_changes=[{"action": "drop", "column": "x", "item": "旧项"}]
    )
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    c = client(a.agency.staff)
    page = c.get(url)
    assert "Changes waiting for confirmation" in page.text
    unconfirmed = c.post(url, {"action": "confirm"})
    assert unconfirmed.status_code == 200 and "This field is required." in unconfirmed.text
    assert c.post(url, {"action": "confirm", "confirm": "on"}).status_code == 302
    # The worker rebuilds the table (the web's database role makes none).
    assert DatastoreTable.objects.get(resource=a.resource).pending_changes != []
    assert run_rebuild_job() == "done"
    table = DatastoreTable.objects.get(resource=a.resource)
    assert table.pending_changes == [] and table.row_count == 2
    assert a.agency.staff.notifications.filter(title__contains="rebuilt in the new shape").exists()


def test_unknown_action_is_404(a):
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    assert client(a.agency.staff).post(url, {"action": "drop_table"}).status_code == 404


# --- upload round trip and the batch page ---------------------------------------------------


def test_upload_form_round_trip_shows_counts(a):
    c = client(a.agency.staff)
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    upload = SimpleUploadedFile("人员.csv", csv_rows(5).encode(), content_type="text/csv")
    response = c.post(url, {"action": "upload", "file": upload, "mode": "full"})
    assert response.status_code == 302
    batch = Batch.objects.get(channel=a.channel)
    assert response["Location"] == reverse("aggregation:batch-detail", args=[batch.pk])
    assert batch.mode == Batch.Mode.FULL
    pending = c.get(response["Location"])
    assert "data-progress-url" in pending.text
    progress = c.get(reverse("aggregation:batch-progress", args=[batch.pk])).json()
    assert progress == {
        "status": "pending",
        "status_label": "Waiting",
        "progress": 0,
        "done": False,
    }
    services.batch_run(batch_id=batch.pk)
    done = c.get(response["Location"])
    assert "data-progress-url" not in done.text
    assert 'data-count="received">5<' in done.text
    assert 'data-count="inserted">5<' in done.text
    assert c.get(reverse("aggregation:batch-progress", args=[batch.pk])).json()["done"] is True


def test_upload_refusal_is_shown_on_the_form(a):
    c = client(a.agency.staff)
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    bad = SimpleUploadedFile("data.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = c.post(url, {"action": "upload", "file": bad})
    assert response.status_code == 200
    assert "Upload a CSV (.csv) or Excel (.xlsx) file." in response.text
    assert not Batch.objects.filter(channel=a.channel).exists()


def test_failed_batch_lists_bad_rows_and_can_be_retried(a):
    batch = load(a, HEADER + "A1,张三,abc,1990-01-01,1,\nA2,李四,31,not-a-date,2,\n")
    assert batch.status == Batch.Status.FAILED
    c = client(a.agency.staff)
    page = c.get(reverse("aggregation:batch-detail", args=[batch.pk]))
    assert page.status_code == 200
    assert "Bad rows" in page.text and "Run again" in page.text
    assert page.context["page_obj"].paginator.count == len(batch.row_errors) >= 2
    response = c.post(reverse("aggregation:batch-retry", args=[batch.pk]))
    assert response.status_code == 302
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.PENDING


def test_reject_file_downloads_for_the_agency_and_the_bureau_only(db, reviewer):
    s = make_channel(allow_reject_file=True)
    other = make_channel()
    batch = load(s, HEADER + "A1,张三,30,1990-01-01,1,\nA2,李四,abc,1990-01-01,2,\n")
    assert batch.status == Batch.Status.SUCCEEDED and batch.reject_file
    url = reverse("aggregation:batch-reject-file", args=[batch.pk])
    response = client(s.agency.staff).get(url)
    assert response.status_code == 200
    assert "李四" in b"".join(response.streaming_content).decode("utf-8-sig")
    assert client(reviewer).get(url).status_code == 200
    assert client(other.agency.staff).get(url).status_code == 404


def test_batch_pages_are_404_for_another_agency(a, b):
    batch = load(a, csv_rows(1))
    c = client(b.agency.staff)
    assert c.get(reverse("aggregation:batch-detail", args=[batch.pk])).status_code == 404
    assert c.get(reverse("aggregation:batch-progress", args=[batch.pk])).status_code == 404
    assert c.post(reverse("aggregation:batch-retry", args=[batch.pk])).status_code == 404


def test_batch_history_is_paginated(a, django_assert_max_num_queries):
    for i in range(17):
        load(a, csv_rows(1, start=i))
    c = client(a.agency.staff)
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    with django_assert_max_num_queries(25):
        response = c.get(url)
    assert response.context["page_obj"].paginator.num_pages == 2
    assert c.get(url, {"page": 2}).status_code == 200


# --- data preview -------------------------------------------------------------------------------


def test_preview_pages_forwards_and_back_by_key(a, reviewer, django_assert_max_num_queries):
    load(a, csv_rows(120))
    url = reverse("aggregation:preview", args=[a.resource.pk])
    c = client(a.agency.staff)
    with django_assert_max_num_queries(20):
        first = c.get(url)
    page = first.context["page"]
    assert first.status_code == 200
    assert [r[0] for r in page.rows][:2] == ["A0001", "A0002"] and len(page.rows) == 50
    assert "姓名" in first.text and not page.prev_cursor
    second = c.get(url, {"after": page.next_cursor}).context["page"]
    assert second.rows[0][0] == "A0051"
    third = c.get(url, {"after": second.next_cursor}).context["page"]
    assert len(third.rows) == 20 and not third.next_cursor
    back = c.get(url, {"before": third.prev_cursor}).context["page"]
    assert back.rows[0][0] == "A0051" and back.rows[-1][0] == "A0100"
    assert client(reviewer).get(url).status_code == 200


def test_preview_filters_by_key_prefix_and_survives_a_bad_cursor(a):
    load(a, csv_rows(120))
    c = client(a.agency.staff)
    url = reverse("aggregation:preview", args=[a.resource.pk])
    page = c.get(url, {"prefix": "A010"}).context["page"]
    assert [r[0] for r in page.rows] == [f"A{i:04d}" for i in range(100, 110)]
    refused = c.get(url, {"after": "!!not-a-cursor"}, follow=True)
    assert refused.status_code == 200 and "This page link is not valid" in refused.text
    assert c.get(url, {"prefix": "%_"}).context["page"].rows == []


def test_preview_of_a_table_without_key_pages_by_ctid(db):
    items = [dict(i, is_key=False) for i in items_people()]
    s = make_channel(items=items)
    load(s, csv_rows(60))
    c = client(s.agency.staff)
    url = reverse("aggregation:preview", args=[s.resource.pk])
    first = c.get(url).context["page"]
    assert first.by_ctid and len(first.rows) == 50
    rest = c.get(url, {"after": first.next_cursor}).context["page"]
    assert len(rest.rows) == 10
    assert {r[0] for r in first.rows}.isdisjoint({r[0] for r in rest.rows})


def test_preview_masks_columns_with_a_masking_rule(db):
    items = items_people()
    items[1]["masking_rule"] = "保留姓氏"
    s = make_channel(items=items)
    load(s, HEADER + "A1,欧阳修远,30,1990-01-01,1,\n")
    page = client(s.agency.staff).get(reverse("aggregation:preview", args=[s.resource.pk]))
    # 保留姓氏 keeps the surname only (a rule of security.masking; the name's length untold)
    assert "欧***" in page.text and "欧阳修远" not in page.text and "修远" not in page.text
    assert "保留姓氏" in page.text  # the rule is named under the column


def test_preview_is_404_for_another_agency_and_a_requester(a, b):
    load(a, csv_rows(2))
    url = reverse("aggregation:preview", args=[a.resource.pk])
    assert client(b.agency.staff).get(url).status_code == 404
    assert client(UserFactory(roles=[Role.REQUESTER])).get(url).status_code == 404


def test_nav_and_queue_for_failed_batches(a):
    load(a, HEADER + "A1,张三,abc,1990-01-01,1,\n")
    home = client(a.agency.staff).get("/")
    assert reverse("aggregation:channels") in home.text
    assert "Failed data loads" in home.text
    assert a.resource.code in home.text


def test_security_admin_queue_lists_channels_waiting_for_signoff(db):
    s = make_channel(activate=False, name="待签通道")
    home = client(security_admin()).get("/")
    assert "Channels waiting for the security sign-off" in home.text
    assert "待签通道" in home.text
    assert json.dumps(s.channel.pk)  # the channel exists for the queue


# --- review fixes (rev6) ------------------------------------------------------------------------


def test_file_channel_offers_an_empty_template_with_the_item_names(a, b):
    url = reverse("aggregation:channel-template", args=[a.channel.pk])
    page = client(a.agency.staff).get(reverse("aggregation:channel-detail", args=[a.channel.pk]))
    assert url in page.text
    response = client(a.agency.staff).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig") == HEADER.replace("\n", "\r\n")
    assert client(b.agency.staff).get(url).status_code == 404


def test_template_is_404_for_a_push_channel(db):
    s = make_channel(kind=ChannelKind.PUSH)
    url = reverse("aggregation:channel-template", args=[s.channel.pk])
    assert client(s.agency.staff).get(url).status_code == 404


def test_a_retried_batch_does_not_show_its_old_error_while_it_waits(a):
    batch = load(a, HEADER + "A1,张三,abc,1990-01-01,1,\n")
    assert batch.status == Batch.Status.FAILED and batch.error
    c = client(a.agency.staff)
    url = reverse("aggregation:batch-detail", args=[batch.pk])
    assert "The batch failed" in c.get(url).text
    services.batch_retry(batch=batch, acting_user=a.agency.staff)
    waiting = c.get(url)
    assert "data-progress-url" in waiting.text
    assert "The batch failed" not in waiting.text and batch.error not in waiting.text


def test_a_skipped_run_is_not_called_a_failure(a):
    batch = Batch.objects.create(
        channel=a.channel,
        mode=Batch.Mode.FULL,
        status=Batch.Status.SKIPPED,
        error="Planned downtime until 2026-01-01 02:00: 升级",
    )
    page = client(a.agency.staff).get(reverse("aggregation:batch-detail", args=[batch.pk]))
    assert "The run was skipped" in page.text and "The batch failed" not in page.text


def test_a_pushed_batch_shows_the_senders_id_once_not_as_a_file(db):
    s = make_channel(kind=ChannelKind.PUSH)
    batch = Batch.objects.create(
        channel=s.channel,
        mode=Batch.Mode.FULL,
        status=Batch.Status.OPEN,
        external_id="20250301-001",
        source_name="20250301-001",
    )
    page = client(s.agency.staff).get(reverse("aggregation:batch-detail", args=[batch.pk]))
    assert "Sender&#x27;s batch id" in page.text or "Sender's batch id" in page.text
    assert "<dt>File</dt>" not in page.text


def test_token_page_gives_a_curl_example_with_the_token_and_the_resources_columns(db):
    s = make_channel(kind=ChannelKind.PUSH)
    url = reverse("aggregation:channel-detail", args=[s.channel.pk])
    c = client(s.agency.staff)
    response = c.post(url, {"action": "token"})
    token = response.context["new_token"]
    assert f"TOKEN='{token}'" in response.text
    assert "/api/v1/ingest/batches/20250301-001/chunks/1/" in response.text
    assert "&quot;code&quot;: &quot;…&quot;" in response.text  # the key column
    assert "&lt;batch_id&gt; is your own batch id" in response.text
    # Later visits keep the instructions, with a placeholder instead of the token.
    later = c.get(url).text
    assert "TOKEN='&lt;token&gt;'" in later and token not in later


def test_table_changes_of_a_newly_published_version_show_before_any_load(a):
    from catalog import services as catalog_services
    from tests.catalog.factories import publish

    load(a, csv_rows(3))
    v2 = catalog_services.resource_revise(resource=a.resource, acting_user=a.agency.staff)
    catalog_services.resource_draft_update(
        version=v2,
        acting_user=a.agency.staff,
        fields={"change_note": "删除金额"},
        items=[i for i in items_people() if i["english_name"] != "amount"],
    )
    publish(v2, a.agency, cf.make_city_bureau().reviewer)

    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    c = client(a.agency.staff)
    page = c.get(url)
    assert "Changes waiting for confirmation" in page.text
    assert "Drop column amount (金额)" in page.text
    assert c.post(url, {"action": "confirm", "confirm": "on"}).status_code == 302
    assert run_rebuild_job() == "done"
    table = DatastoreTable.objects.get(resource=a.resource)
    assert "amount" not in {col["name"] for col in table.columns} and table.row_count == 3
    assert "Changes waiting for confirmation" not in c.get(url).text


def test_channel_history_reads_in_words_not_codes(a):
    c = client(a.agency.staff)
    url = reverse("aggregation:channel-detail", args=[a.channel.pk])
    c.post(url, {"action": "suspend", "reason": "接口改造"})
    history = c.get(url).context["history"]
    reasons = [r.history_change_reason for r in history]
    assert reasons[0] == "Suspended: 接口改造"
    assert {"Set up", "Security sign-off", "Activated"} <= set(reasons)


def test_database_port_is_checked_on_the_form(db):
    s = make_channel(kind=ChannelKind.DB_EXTRACT, activate=False)
    data = {
        "name": "抽取",
        "source_kind": "local",
        "access_requirements": "只读",
        "cfg_db_extract__engine": "postgresql",
        "cfg_db_extract__host": "10.1.2.3",
        "cfg_db_extract__port": "99999",
        "cfg_db_extract__database": "src",
        "cfg_db_extract__user": "reader",
        "cfg_db_extract__table": "people",
    }
    response = client(s.agency.staff).post(
        reverse("aggregation:channel-edit", args=[s.channel.pk]), data
    )
    assert response.status_code == 200
    assert response.context["form"].errors["cfg_db_extract__port"]
    assert "port" not in (Channel.objects.get(pk=s.channel.pk).config or {})


def test_downtime_tabs_do_not_offer_the_board_to_a_requester(db):
    requester = UserFactory(roles=[Role.REQUESTER])
    page = client(requester).get(reverse("aggregation:downtime"))
    assert page.status_code == 200
    assert reverse("aggregation:board") not in page.text
    assert client(requester).get(reverse("aggregation:board")).status_code == 404
