import io

from django.core.management import call_command

from cmdb import services as cmdb_services
from cmdb.models import ConfigurationItem
from practices.deployments.models import Deployment, ServiceAccount
from practices.releases.models import Release


def test_demo_release_with_two_deployments(db, priority_matrix):
    call_command("load_demo", stdout=io.StringIO())
    release = Release.objects.get(title="ERP feature pack 02")
    assert release.state == "deploy"
    deployments = Deployment.objects.filter(release=release).order_by("number")
    assert [d.state for d in deployments] == ["succeeded", "planned"]
    sap = ConfigurationItem.objects.get(name="SAP S/4HANA")
    assert sap.attributes["version"] == "2023 FPS02"
    assert any(
        (e.data or {}).get("attributes.version") == ["2023", "2023 FPS02"]
        for e in cmdb_services.history(sap)
    )
    assert ServiceAccount.objects.filter(user__username="pipeline-erp").exists()
    call_command("load_demo", stdout=io.StringIO())
    assert Release.objects.count() == 1 and Deployment.objects.count() == 2
