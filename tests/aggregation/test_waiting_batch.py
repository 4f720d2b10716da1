"""A batch whose job was lost does not wait forever without a word (issue 12, item 3): its
page and the channel's batch list say how long it has waited and when the outbox sweep sends
it again; after AGGREGATION_BATCH_RESEND_AFTER the provider may send it again, once (a second
click does nothing new). Also the small aggregation items of item 11."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aggregation import services
from aggregation.models import Batch
from tests.aggregation.factories import make_channel
from tests.messages import message
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.models import BackgroundJob

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


def waiting_batch(setup, minutes: int) -> Batch:
    """An uploaded batch queued `minutes` ago whose job no worker has taken."""
    batch = services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("d.csv", (HEADER + "A1,张三,30,,,\n").encode()),
        acting_user=setup.agency.staff,
    )
    then = timezone.now() - dt.timedelta(minutes=minutes)
    Batch.objects.filter(pk=batch.pk).update(created_at=then)
    BackgroundJob.objects.filter(pk=batch.job_id).update(created_at=then, last_sent_at=then)
    return Batch.objects.select_related("job").get(pk=batch.pk)


@pytest.fixture
def setup(db):
    return make_channel()


def page_of(setup, batch) -> str:
    browser = Client()
    browser.force_login(setup.agency.staff)
    return browser.get(reverse("aggregation:batch-detail", args=[batch.pk])).content.decode()


def test_a_waiting_batch_says_how_long_and_when_it_is_sent_again(setup, settings):
    settings.AGGREGATION_BATCH_RESEND_AFTER = dt.timedelta(minutes=15)
    batch = waiting_batch(setup, minutes=5)
    info = services.batch_waiting_info(batch)
    assert info["waited"] >= dt.timedelta(minutes=5)
    assert info["next_send"] is not None and info["next_send"] > timezone.now()
    assert not info["may_resend"]

    page = page_of(setup, batch)
    assert 'id="waiting"' in page
    assert reverse("aggregation:batch-resend", args=[batch.pk]) not in page
    when = timezone.localtime(info["resend_at"]).strftime("%Y-%m-%d %H:%M")
    assert when in page
    channel_page = Client()
    channel_page.force_login(setup.agency.staff)
    listing = channel_page.get(
        reverse("aggregation:channel-detail", args=[setup.channel.pk])
    ).content.decode()
    assert "waiting-note" in listing

    with pytest.raises(DomainError):
        services.batch_resend(batch=batch, acting_user=setup.agency.staff)


def test_after_a_while_the_provider_may_send_it_again_once(
    setup, settings, django_capture_on_commit_callbacks
):
    settings.AGGREGATION_BATCH_RESEND_AFTER = dt.timedelta(minutes=15)
    batch = waiting_batch(setup, minutes=20)
    page = page_of(setup, batch)
    assert message("Send it again") in page
    assert reverse("aggregation:batch-resend", args=[batch.pk]) in page

    browser = Client()
    browser.force_login(setup.agency.staff)
    url = reverse("aggregation:batch-resend", args=[batch.pk])
    with django_capture_on_commit_callbacks() as sent:
        assert browser.post(url).status_code == 302
    assert len(sent) == 1  # the job is sent to the broker once this commits
    resent_at = Batch.objects.get(pk=batch.pk).resent_at
    assert resent_at is not None

    with django_capture_on_commit_callbacks() as again:
        assert browser.post(url).status_code == 302
    assert again == []  # a second click does nothing new
    assert Batch.objects.get(pk=batch.pk).resent_at == resent_at
    assert BackgroundJob.objects.filter(kwargs__batch_id=str(batch.pk)).count() == 1
    assert 'id="waiting"' in page_of(setup, batch)


def test_a_batch_whose_job_ended_gets_a_new_job(setup, settings):
    settings.AGGREGATION_BATCH_RESEND_AFTER = dt.timedelta(minutes=15)
    batch = waiting_batch(setup, minutes=30)
    BackgroundJob.objects.filter(pk=batch.job_id).update(state=BackgroundJob.State.FAILED)
    batch = Batch.objects.select_related("job").get(pk=batch.pk)
    assert services.batch_waiting_info(batch)["next_send"] is None
    assert message(
        "Its background job is gone or ended without loading it; send it again below."
    ) in page_of(setup, batch)

    services.batch_resend(batch=batch, acting_user=setup.agency.staff)
    assert BackgroundJob.objects.filter(kwargs__batch_id=str(batch.pk)).count() == 2
    done = services.batch_run(batch_id=batch.pk)
    assert done.status == Batch.Status.SUCCEEDED


def test_a_stranger_cannot_send_it_again(setup, settings):
    settings.AGGREGATION_BATCH_RESEND_AFTER = dt.timedelta(minutes=15)
    batch = waiting_batch(setup, minutes=20)
    stranger = Client()
    stranger.force_login(make_channel().agency.staff)
    assert stranger.post(reverse("aggregation:batch-resend", args=[batch.pk])).status_code == 404
    assert Batch.objects.get(pk=batch.pk).resent_at is None


def test_a_single_page_preview_has_no_page_links_and_the_board_applies(setup):
    upload = services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("d.csv", (HEADER + "A1,张三,30,,,\n").encode()),
        acting_user=setup.agency.staff,
    )
    services.batch_run(batch_id=upload.pk)
    browser = Client()
    browser.force_login(setup.agency.staff)
    page = browser.get(reverse("aggregation:preview", args=[setup.resource.pk])).content.decode()
    assert "张三" in page
    assert message("Previous") not in page and message("Next") not in page

    board = browser.get(reverse("aggregation:board"))
    assert board.status_code == 200
    text = board.content.decode()
    assert f">{message('Apply')}</button>" in text
    assert f">{message('Search')}</button>" not in text
