"""The SLA export's text cells are not run as formulas by a spreadsheet, also where an
importer splits a cell on ``;`` or ``,`` (the kernel's ``safe_cell``)."""

import csv
import io

import pytest

from itsm.core.exports import safe_cell
from tests.factories import web
from tests.service_level.test_report import PERIOD, agreements, known  # noqa: F401 (fixtures)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("x;=1+1", "'x;=1+1"),
        ("x; =1+1", "'x; =1+1"),
        ("x,+1", "'x,+1"),
        ("x;@A1", "'x;@A1"),
        ("line\n=1+1", "'line\n=1+1"),
        ("Service Desk", "Service Desk"),
        ("A - B", "A - B"),
        ("a+b=c", "a+b=c"),
        ("e-mail", "e-mail"),
        ("x; y", "x; y"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def rows(response):
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_team_name_split_on_a_semicolon_is_not_a_formula(known, agent, service_desk):  # noqa: F811
    service_desk.name = "Desk;=HYPERLINK(1)"
    service_desk.save()
    found = rows(web(agent).get(f"/service-levels/?{PERIOD}&group=team&format=csv"))
    labels = [row[0] for row in found[1:]]
    assert "'Desk;=HYPERLINK(1)" in labels
    assert "Network" in labels  # the others as they are


def test_agreement_names_and_kinds_are_neutralised(known, agent):  # noqa: F811
    from practices.service_level.models import Agreement

    agreement = Agreement.objects.get(name="Critical")
    agreement.name = "-2+3"
    agreement.save()
    found = rows(web(agent).get(f"/service-levels/?{PERIOD}&group=agreement&format=csv"))
    assert ["'-2+3", "SLA"] in [row[:2] for row in found[1:]]
