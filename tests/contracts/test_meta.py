"""Every tracked and record type keeps the API contract: each has a contract class."""

import importlib
import pkgutil
from types import SimpleNamespace

from django.apps import apps

import tests.contracts
from incidents.models import Incident
from itsm.core.models import Tracked

from .base import APIContract


def contract_classes() -> list[type]:
    """Every contract class in ``tests/contracts/test_*.py``."""
    for module in pkgutil.iter_modules(tests.contracts.__path__):
        if module.name.startswith("test_"):
            importlib.import_module(f"tests.contracts.{module.name}")
    found, todo = [], list(APIContract.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def uncovered(types) -> list[str]:
    covered = {cls.model for cls in contract_classes() if cls.model is not None}
    return sorted(m._meta.label for m in types if m not in covered)


def test_every_tracked_type_has_a_contract_class():
    types = [m for m in apps.get_models() if issubclass(m, Tracked)]
    assert len(types) >= 12, "the tracked types were not found"
    missing = uncovered(types)
    assert not missing, f"tracked types without a contract test class: {missing}"


def test_a_type_without_a_contract_is_reported():
    stranger = type("Stranger", (), {"_meta": SimpleNamespace(label="elsewhere.Stranger")})
    assert uncovered([Incident, stranger]) == ["elsewhere.Stranger"]
