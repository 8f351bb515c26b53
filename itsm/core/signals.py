"""Kernel signals practices subscribe to instead of importing each other."""

from django.dispatch import Signal

#: Sent inside the transaction after a record was created or changed through the services.
#: Arguments: ``record``, ``actor`` (None for the platform itself), ``changes``
#: ({field: [old, new]}), ``created`` (bool).
record_changed = Signal()
