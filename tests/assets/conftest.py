import pytest

from itsm.accounts.models import Location
from practices.assets import services


@pytest.fixture
def berlin(db):
    return Location.objects.create(name="Berlin HQ")


@pytest.fixture
def london(db):
    return Location.objects.create(name="London Office")


@pytest.fixture
def dell(agent):
    return services.create_supplier(agent, {"name": "Dell", "email": "sales@dell.example.com"})


@pytest.fixture
def lenovo(agent):
    return services.create_supplier(agent, {"name": "Lenovo"})
