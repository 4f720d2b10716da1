"""Separation of duties in the database: no account holds two of system_admin,
security_admin and auditor, and a superuser (the system administrator's duty) holds neither
of the other two. The services and forms check it first with a message for the user; this
trigger catches every other way in (the shell, raw SQL, a future bug).

The trigger locks the user's row first, so that two transactions each adding one role to the
same account cannot both pass."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION accounts_check_separation_of_duties() RETURNS trigger AS $$
DECLARE
    uid bigint;
    held text[];
    superuser boolean;
BEGIN
    IF TG_TABLE_NAME = 'accounts_user' THEN
        uid := NEW.id;
    ELSE
        uid := NEW.user_id;
    END IF;
    SELECT is_superuser INTO superuser FROM accounts_user WHERE id = uid FOR UPDATE;
    SELECT coalesce(array_agg(DISTINCT g.name ORDER BY g.name), '{}') INTO held
      FROM accounts_user_groups ug JOIN auth_group g ON g.id = ug.group_id
     WHERE ug.user_id = uid AND g.name IN ('system_admin', 'security_admin', 'auditor');
    IF array_length(held, 1) > 1 THEN
        RAISE EXCEPTION 'separation of duties: user % may hold only one of system_admin, '
            'security_admin, auditor (would hold %)', uid, array_to_string(held, ', ')
            USING ERRCODE = 'check_violation';
    END IF;
    IF superuser AND (held && ARRAY['security_admin', 'auditor']) THEN
        RAISE EXCEPTION 'separation of duties: superuser % is the system administrator and may '
            'not hold %', uid, array_to_string(held, ', ')
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER accounts_user_groups_separation_of_duties
    AFTER INSERT OR UPDATE ON accounts_user_groups
    FOR EACH ROW EXECUTE FUNCTION accounts_check_separation_of_duties();

CREATE CONSTRAINT TRIGGER accounts_user_superuser_separation_of_duties
    AFTER INSERT OR UPDATE OF is_superuser ON accounts_user
    FOR EACH ROW WHEN (NEW.is_superuser) EXECUTE FUNCTION accounts_check_separation_of_duties();
"""

REVERSE = """
DROP TRIGGER IF EXISTS accounts_user_groups_separation_of_duties ON accounts_user_groups;
DROP TRIGGER IF EXISTS accounts_user_superuser_separation_of_duties ON accounts_user;
DROP FUNCTION IF EXISTS accounts_check_separation_of_duties();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_password_policy"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunSQL(FUNCTION, REVERSE)]
