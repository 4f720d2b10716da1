"""What the audit log records by listening (connected in SecurityConfig.ready).

Logins, failed logins, logouts (Django's auth signals), lockouts (django-axes), two-factor
events (`accounts.signals.two_factor_event`), role and permission changes (group membership
and permission m2m signals, django-guardian's object permissions) and changes of the models
in `AUDITED_MODELS` (users, organizations, grades, masking rules, assessments, incidents,
plans, drills, backups, data elements, channels and datastore tables: read from
django-simple-history's record, which names the actor and lets us list the changed fields
without their values).

Receivers write only the audit record; the style's "no writes in signals" is about domain
data, and these records must follow every path that changes an account, the admin included.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save

from .recording import record

# Models whose every change is recorded (through their django-simple-history record): label ->
# action prefix.
AUDITED_MODELS = {
    "accounts.User": "accounts.user",
    "accounts.Organization": "accounts.organization",
    "security.Grade": "security.grade",
    "security.MaskingRule": "security.masking_rule",
    "security.Assessment": "security.assessment",
    "security.Incident": "security.incident",
    "security.IncidentEntry": "security.incident_entry",
    "security.IncidentResource": "security.incident_resource",
    "security.EmergencyPlan": "security.emergency_plan",
    "security.DataTool": "security.data_tool",
    "security.Drill": "security.drill",
    "security.Backup": "security.backup",
    "security.RestoreDrill": "security.restore_drill",
    # Chapter models named by label only (security imports no chapter): a data element's
    # masking rule, a channel's security-relevant settings, a table's storage zone.
    "catalog.DataElement": "catalog.data_element",
    "aggregation.Channel": "aggregation.channel",
    "aggregation.DatastoreTable": "aggregation.datastore_table",
}

_HISTORY_VERBS = {"+": "created", "~": "changed", "-": "deleted"}


def on_login(sender, request, user, **kwargs):
    record("auth.login", actor=user, request=request, obj=user)


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record("auth.logout", actor=user, request=request, obj=user)


def on_login_failed(sender, credentials, request=None, **kwargs):
    name = str((credentials or {}).get("username") or "")[:150]
    record("auth.login_failed", actor=name, request=request, outcome="failure")


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    record(
        "auth.lockout",
        actor=str(username or "")[:150],
        request=request,
        outcome="refused",
        details={"ip_address": ip_address},
    )


def on_two_factor(sender, user=None, request=None, event="", actor=None, **kwargs):
    outcome = "failure" if event == "failed" else "success"
    record(
        f"auth.2fa.{event}",
        actor=actor or user,
        request=request,
        obj=user,
        outcome=outcome,
        organization=getattr(user, "organization_id", None),
    )


def on_history(sender, instance, history_instance, history_user=None, **kwargs):
    prefix = AUDITED_MODELS.get(instance._meta.label)
    if prefix is None:
        return
    kind = getattr(history_instance, "history_type", "~")
    details: dict = {}
    if kind == "~":
        previous = history_instance.prev_record
        if previous is not None:
            changed = sorted(history_instance.diff_against(previous).changed_fields)
            if not changed:
                return  # e.g. only last_login, which history leaves out
            details["changed"] = changed
    reason = getattr(history_instance, "history_change_reason", None)
    if reason:
        details["reason"] = str(reason)[:200]
    record(
        f"{prefix}.{_HISTORY_VERBS.get(kind, 'changed')}",
        actor=history_user if getattr(history_user, "pk", None) else None,
        obj=instance,
        details=details,
    )


def on_user_saved(sender, instance, created, **kwargs):
    # set_password() keeps the raw password on the instance until save() ends; history
    # leaves the hash out, so the change is recorded here (never the value).
    if not created and getattr(instance, "_password", None) is not None:
        record("accounts.user.password_changed", obj=instance)


def on_user_groups(sender, instance, action, pk_set, reverse, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:
        return  # nothing changed
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    if reverse:  # group.user_set.add(...)
        users = get_user_model().objects.filter(pk__in=pk_set or [])
        for user in users:
            record(
                "accounts.user.roles_changed",
                obj=user,
                details={verb: [instance.name]},
                organization=user.organization_id,
            )
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    record(
        "accounts.user.roles_changed",
        obj=instance,
        details={verb: names},
        organization=getattr(instance, "organization_id", None),
    )


def _perm_names(pk_set) -> list[str]:
    from django.contrib.auth.models import Permission

    return sorted(
        f"{app}.{code}"
        for app, code in Permission.objects.filter(pk__in=pk_set or []).values_list(
            "content_type__app_label", "codename"
        )
    )


def on_permissions(sender, instance, action, pk_set, reverse, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    if action != "post_clear" and not pk_set:
        return  # nothing changed
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    kind = "group" if isinstance(instance, Group) else "user"
    record(
        f"accounts.{kind}.permissions_changed",
        obj=instance,
        details={verb: _perm_names(pk_set)},
    )


def on_object_permission(sender, instance, created=None, **kwargs):
    granted = kwargs.get("signal") is post_save
    holder = getattr(instance, "user", None) or getattr(instance, "group", None)
    record(
        "accounts.object_permission.granted" if granted else "accounts.object_permission.revoked",
        obj=(
            instance.content_type.model_class() or instance.content_type.model,
            instance.object_pk,
        ),
        details={
            "permission": instance.permission.codename,
            "holder": str(holder),
        },
    )


def connect() -> None:
    from axes.signals import user_locked_out
    from guardian.models import GroupObjectPermission, UserObjectPermission
    from simple_history.signals import post_create_historical_record

    from wuhan_pdr.accounts.signals import two_factor_event

    User = get_user_model()
    user_logged_in.connect(on_login, dispatch_uid="audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit.locked_out")
    two_factor_event.connect(on_two_factor, dispatch_uid="audit.two_factor")
    post_create_historical_record.connect(on_history, dispatch_uid="audit.history")
    post_save.connect(on_user_saved, sender=User, dispatch_uid="audit.user_password")
    m2m_changed.connect(on_user_groups, sender=User.groups.through, dispatch_uid="audit.groups")
    m2m_changed.connect(
        on_permissions, sender=Group.permissions.through, dispatch_uid="audit.group_perms"
    )
    m2m_changed.connect(
        on_permissions, sender=User.user_permissions.through, dispatch_uid="audit.user_perms"
    )
    for model in (UserObjectPermission, GroupObjectPermission):
        post_save.connect(
            on_object_permission, sender=model, dispatch_uid=f"audit.{model.__name__}+"
        )
        post_delete.connect(
            on_object_permission, sender=model, dispatch_uid=f"audit.{model.__name__}-"
        )
