"""The audit log of security and configuration events: one call, ``record``, for every
practice and the kernel (sign-in, failures, lockouts, token use and changes, role and
permission changes, admin changes, erasures).

The append-only, hash-chained store behind it is built in this app; until it lands this
writes the event to the ``itsm.audit`` logger only."""

import logging

logger = logging.getLogger("itsm.audit")


def record(
    action: str,
    *,
    actor=None,
    target=None,
    request=None,
    before: dict | None = None,
    after: dict | None = None,
    **details,
) -> None:
    """Record one security or configuration event.

    ``action`` is a dotted name (``"auth.sign_in"``, ``"auth.sign_in_failed"``,
    ``"auth.locked_out"``, ``"token.created"``, ``"token.revoked"``, ``"token.used"``,
    ``"role.changed"``, ``"admin.changed"``, ``"privacy.erased"``…); ``actor`` the user who
    acted (None: the platform or an anonymous client); ``target`` the object acted on;
    ``request`` gives the client address and user agent; ``before``/``after`` the changed
    values; ``details`` anything else worth keeping (JSON-serialisable)."""
    logger.info(
        "%s actor=%s target=%r details=%s",
        action,
        getattr(actor, "pk", None),
        target,
        details,
    )
