import pytest
from rest_framework.test import APIClient

from changes.models import ApprovalLevel, ApprovalPolicy
from practices.deployments.accounts import service_account
from practices.deployments.models import EnvironmentPolicy


@pytest.fixture
def pipeline(db):
    """A pipeline's service account and its token."""
    return service_account("gitlab-shop")


@pytest.fixture
def pipeline_client(pipeline):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pipeline[1]}")
    return client


@pytest.fixture
def policies(db, registration_model, normal_model, service_desk, change_manager):
    """Registration outside production, a normal change in production (authorised by a
    change manager)."""
    policy = ApprovalPolicy.objects.create(name="Change manager")
    ApprovalLevel.objects.create(policy=policy, order=1, kind=ApprovalLevel.Kind.CHANGE_MANAGER)
    normal_model.approval_policy = policy
    normal_model.save(update_fields=["approval_policy"])
    EnvironmentPolicy.objects.create(
        environment="staging", change_model=registration_model, assignment_group=service_desk
    )
    EnvironmentPolicy.objects.create(
        environment="production", change_model=normal_model, assignment_group=service_desk
    )
    return EnvironmentPolicy.objects.all()
