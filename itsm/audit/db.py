"""The database's side of the audit trail: triggers on PostgreSQL refuse UPDATE, DELETE
and TRUNCATE of the audit log (``audit_auditevent``), the records' timelines (``core_journalentry``)
and their attachments (``core_attachment``), except

- a user's deletion clearing the actor column (``on_delete=SET_NULL``), nothing else;
- inside ``rewriting(reason)``: a privacy erasure pseudonymising personal data, an UPDATE
  of the personal columns only (a timeline entry's body, data and actor; an attachment's
  file name, file, type and uploader; an audit event's actor name, address, user agent,
  target name and values, which marks it ``rewritten_at`` and keeps its chain; never the
  record a row belongs to, its time or internal flag), and with ``remove=True`` the
  deletion of timeline entries and attachments of records being removed by retention.
  Audit events are never deleted.

SQLite (the quick start) has no such triggers; the models refuse there what they can."""

from contextlib import contextmanager

from django.db import connection, transaction

from .models import PERSONAL_FIELDS

#: Protected tables: their actor column (the one a user's deletion sets to NULL) and the
#: columns a privacy erasure may rewrite (personal data; never the record a row belongs
#: to, its kind, time, size or internal flag).
PROTECTED = {
    "audit_auditevent": ("actor_id", (*PERSONAL_FIELDS, "rewritten_at")),
    "core_journalentry": ("actor_id", ("body", "data")),
    "core_attachment": ("uploaded_by_id", ("filename", "file", "mime_type")),
}

_FUNCTION = """
CREATE OR REPLACE FUNCTION itsm_audit_guard() RETURNS trigger AS $$
DECLARE
    actor_column text := TG_ARGV[0];
    rewritable text[] := TG_ARGV[1:TG_NARGS - 1];
    rewrite text := coalesce(current_setting('itsm.rewrite', true), '');
    remove text := coalesce(current_setting('itsm.rewrite_remove', true), '');
    cleared boolean;
    same_actor boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME <> 'audit_auditevent' AND rewrite <> '' AND remove = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'itsm: % rows are never deleted', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    cleared := (to_jsonb(NEW) -> actor_column) = 'null'::jsonb
        AND (to_jsonb(OLD) -> actor_column) <> 'null'::jsonb;
    same_actor := (to_jsonb(NEW) -> actor_column) = (to_jsonb(OLD) -> actor_column);
    -- A user's deletion (on_delete=SET_NULL): the actor column cleared, nothing else.
    IF cleared AND (to_jsonb(NEW) - actor_column) = (to_jsonb(OLD) - actor_column) THEN
        RETURN NEW;
    END IF;
    IF rewrite <> '' THEN
        -- A privacy erasure: only the personal columns; the actor of a timeline entry or
        -- attachment may become the pseudonym, an audit event's only be cleared.
        IF (to_jsonb(NEW) - rewritable - actor_column) = (to_jsonb(OLD) - rewritable - actor_column)
           AND (same_actor OR cleared OR TG_TABLE_NAME <> 'audit_auditevent')
        THEN
            IF TG_TABLE_NAME = 'audit_auditevent' THEN
                NEW.rewritten_at := now();
            END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'itsm: only the personal columns of % may be rewritten', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'itsm: % rows are never changed', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


#: The chain head only moves forward: never deleted, its sequence never lowered, its hash
#: never changed without the sequence moving on (``verify`` compares it with the last
#: event, so removing the newest events is seen).
_HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION itsm_audit_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'itsm: the audit chain head is never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.sequence < OLD.sequence
       OR (NEW.sequence = OLD.sequence AND NEW.hash <> OLD.hash)
       OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'itsm: the audit chain head only moves forward'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


#: TRUNCATE empties a table without firing its row triggers: refused on every protected
#: table. A test database's flush between transactional tests empties every table this
#: way; the test suite alone sets ``itsm.allow_truncate`` on its connections.
_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION itsm_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('itsm.allow_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'itsm: % is never truncated', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

#: Every table the triggers protect.
GUARDED_TABLES = (*PROTECTED, "audit_chainhead")


def install_sql() -> list[str]:
    statements = [_FUNCTION, _HEAD_FUNCTION, _TRUNCATE_FUNCTION]
    for table in GUARDED_TABLES:
        statements.append(f"DROP TRIGGER IF EXISTS itsm_audit_no_truncate ON {table}")
        statements.append(
            f"CREATE TRIGGER itsm_audit_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION itsm_audit_no_truncate()"
        )
    statements.append("DROP TRIGGER IF EXISTS itsm_audit_head_guard ON audit_chainhead")
    statements.append(
        "CREATE TRIGGER itsm_audit_head_guard BEFORE UPDATE OR DELETE ON audit_chainhead "
        "FOR EACH ROW EXECUTE FUNCTION itsm_audit_head_guard()"
    )
    for table, (actor_column, rewritable) in PROTECTED.items():
        arguments = ", ".join(f"'{name}'" for name in (actor_column, *rewritable))
        statements.append(f"DROP TRIGGER IF EXISTS itsm_audit_guard ON {table}")
        statements.append(
            f"CREATE TRIGGER itsm_audit_guard BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION itsm_audit_guard({arguments})"
        )
    return statements


def uninstall_sql() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS itsm_audit_guard ON {table}" for table in PROTECTED]
    statements += [
        f"DROP TRIGGER IF EXISTS itsm_audit_no_truncate ON {table}" for table in GUARDED_TABLES
    ]
    statements.append("DROP FUNCTION IF EXISTS itsm_audit_no_truncate()")
    statements.append("DROP TRIGGER IF EXISTS itsm_audit_head_guard ON audit_chainhead")
    statements.append("DROP FUNCTION IF EXISTS itsm_audit_guard()")
    statements.append("DROP FUNCTION IF EXISTS itsm_audit_head_guard()")
    return statements


def install_triggers(apps=None, schema_editor=None) -> None:
    conn = schema_editor.connection if schema_editor is not None else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        for statement in install_sql():
            cursor.execute(statement)


def uninstall_triggers(apps=None, schema_editor=None) -> None:
    conn = schema_editor.connection if schema_editor is not None else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        for statement in uninstall_sql():
            cursor.execute(statement)


@contextmanager
def rewriting(reason: str, *, actor=None, remove: bool = False):
    """A block in which a privacy erasure or retention may pseudonymise personal data in
    the timelines, attachments and audit log (``remove=True``: also delete timeline
    entries and attachments of records being removed). Runs in one transaction (atomic),
    records a ``privacy.rewrite`` event naming ``reason``; on PostgreSQL it is
    ``SET LOCAL itsm.rewrite``, which the triggers accept until the transaction ends.

    Pseudonymise the audit log's own rows with ``itsm.audit.services.pseudonymise``."""
    from .services import record

    reason = str(reason or "").replace("\x00", "").strip() or "unspecified"
    with transaction.atomic():
        record("privacy.rewrite", actor=actor, reason=reason, remove=bool(remove))
        previous = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT coalesce(current_setting('itsm.rewrite', true), ''),"
                    " coalesce(current_setting('itsm.rewrite_remove', true), ''),"
                    " set_config('itsm.rewrite', %s, true),"
                    " set_config('itsm.rewrite_remove', %s, true)",
                    [reason, "on" if remove else ""],
                )
                previous = cursor.fetchone()[:2]
        yield
        # Only within the block, even when it runs inside a longer transaction (an
        # exception rolls the settings back with the block's savepoint); an enclosing
        # rewriting block gets its own settings back.
        if previous is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('itsm.rewrite', %s, true),"
                    " set_config('itsm.rewrite_remove', %s, true)",
                    list(previous),
                )
