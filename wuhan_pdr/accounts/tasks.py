from django.contrib.sessions.models import Session
from django.utils import timezone

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("accounts.end_user_sessions")
def end_user_sessions(job, *, user_id: int) -> None:
    """Delete every open session of a deactivated user (safe to run twice)."""
    sessions = Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000)
    doomed = [
        s.session_key for s in sessions if str(s.get_decoded().get("_auth_user_id")) == str(user_id)
    ]
    Session.objects.filter(session_key__in=doomed).delete()
