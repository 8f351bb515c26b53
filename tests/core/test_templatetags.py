"""The journal's field-change lines read as text, whatever the record type."""

from types import SimpleNamespace

from itsm.core.templatetags.itsm import field_changes


def test_field_changes_show_yes_no_and_a_dash_for_nothing():
    entry = SimpleNamespace(
        data={
            "workaround_public": [False, True],
            "major": [True, False],
            "assigned_to": [None, "Nils"],
            "tags": [["a", "b"], []],
            "note": "not a change",
        }
    )
    html = str(field_changes(entry))
    assert "<li><b>workaround public</b>: No → Yes</li>" in html
    assert "<li><b>major</b>: Yes → No</li>" in html
    assert "<li><b>assigned to</b>: — → Nils</li>" in html
    assert "<li><b>tags</b>: a, b → —</li>" in html
    assert "True" not in html and "False" not in html and "note" not in html
