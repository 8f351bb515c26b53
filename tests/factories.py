"""Small helpers that make records through the services, as the product does."""

from cmdb.models import CIClass, ConfigurationItem
from incidents import services as incident_services


def incident(caller, actor=None, **fields):
    """An incident for ``caller``, logged by ``actor`` (an agent) or by the caller."""
    fields.setdefault("title", "Cannot send e-mail")
    actor = actor or caller
    if actor.is_agent:
        fields.setdefault("caller", caller)
    return incident_services.open_incident(actor, fields)


def resolve(incident, actor, code="solved_permanently", notes="Restarted the mail relay."):
    """Resolve an incident through the service, as an agent would."""
    return incident_services.update_incident(
        incident, actor, {"state": "resolved", "resolution_code": code, "resolution_notes": notes}
    )


def team(name, manager=None, members=()):
    from itsm.accounts.models import Team

    created = Team.objects.create(name=name, manager=manager)
    created.members.add(*members)
    return created


def category(name, parent=None):
    from incidents.models import Category

    return Category.objects.create(name=name, parent=parent)


# Helpers for tests of the server-rendered screens ------------------------------------------


def html_forms(html: str) -> list[dict]:
    """The forms of a page as a browser would submit them, unchanged: a list of
    ``{"action": ..., "method": ..., "data": {name: value or [values]}}``.

    Checked checkboxes and radios, selected options (else a single select's first option),
    text inputs, hidden inputs and textareas are included; file inputs and buttons are not."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.forms, self.form, self.select, self.textarea = [], None, None, None

        def add(self, name, value):
            self.form["pairs"].append((name, value))

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.form = {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "pairs": [],
                }
                self.forms.append(self.form)
            elif self.form is None or (
                not a.get("name") and tag in ("input", "select", "textarea")
            ):
                return
            elif tag == "input":
                kind = (a.get("type") or "text").lower()
                if kind in ("submit", "button", "reset", "file", "image"):
                    return
                if kind in ("checkbox", "radio"):
                    if "checked" in a:
                        value = a.get("value")
                        self.add(a["name"], "on" if value is None else value)
                    return
                self.add(a["name"], a.get("value") or "")
            elif tag == "select":
                self.select = {"name": a["name"], "multiple": "multiple" in a, "chosen": []}
                self.select["first"] = None
            elif tag == "option" and self.select is not None:
                value = a.get("value") or ""
                if self.select["first"] is None:
                    self.select["first"] = value
                if "selected" in a:
                    self.select["chosen"].append(value)
            elif tag == "textarea":
                self.textarea = {"name": a["name"], "text": ""}

        def handle_data(self, data):
            if self.textarea is not None:
                self.textarea["text"] += data

        def handle_endtag(self, tag):
            if tag == "form":
                self.form = None
            elif tag == "select" and self.select is not None and self.form is not None:
                chosen = self.select["chosen"]
                if not chosen and not self.select["multiple"] and self.select["first"] is not None:
                    chosen = [self.select["first"]]
                if not self.select["multiple"]:
                    chosen = chosen[-1:]
                for value in chosen:
                    self.add(self.select["name"], value)
                self.select = None
            elif tag == "textarea" and self.textarea is not None and self.form is not None:
                text = self.textarea["text"]
                self.add(self.textarea["name"], text[1:] if text.startswith("\n") else text)
                self.textarea = None

    parser = Parser()
    parser.feed(html)
    result = []
    for form in parser.forms:
        data: dict = {}
        for name, value in form["pairs"]:
            if name in data:
                data[name] = (
                    [*data[name], value] if isinstance(data[name], list) else [data[name], value]
                )
            else:
                data[name] = value
        result.append({"action": form["action"], "method": form["method"], "data": data})
    return result


def html_form(html: str, action: str, **match) -> dict:
    """The data of the first form posting to ``action`` whose fields include ``match``."""
    for form in html_forms(html):
        if form["action"] == action and all(form["data"].get(k) == v for k, v in match.items()):
            return dict(form["data"])
    raise AssertionError(f"No form to {action} with {match} on the page")


def field_block(html: str, name: str) -> str:
    """The ``<div class="field…">`` of a form field (its label, input and errors)."""
    import re

    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, flags=re.DOTALL):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"No field block for {name!r} on the page")


def web(user):
    """A browser-less client signed in as ``user``."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def page(response) -> str:
    return response.content.decode()


def ci(name, class_key="application", **fields):
    """A configuration item of a standard class, saved directly (no history)."""
    return ConfigurationItem.objects.create(
        name=name, ci_class=CIClass.objects.get(key=class_key), **fields
    )


def laptop_item(name="New laptop", category="Hardware"):
    """A request catalogue item asking for one required choice, ``model``: mac or
    thinkpad."""
    from catalogue.models import CatalogueCategory, CatalogueItem, Variable

    shelf, _ = CatalogueCategory.objects.get_or_create(name=category)
    item = CatalogueItem.objects.create(name=name, category=shelf)
    Variable.objects.create(
        item=item,
        name="model",
        label="Model",
        type="choice",
        required=True,
        choices=[{"value": "mac"}, {"value": "thinkpad"}],
    )
    return item


def german_words(monkeypatch, words: dict) -> None:
    """Put ``words`` ({msgid: German}) on top of the German catalogue for one test
    (monkeypatch restores it), so that a test of per-language wording does not depend on
    the shipped translations."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("de")._catalog
    monkeypatch.setattr(catalog, "_catalogs", [dict(words), *catalog._catalogs])
    monkeypatch.setattr(catalog, "_plurals", [catalog._plurals[0], *catalog._plurals])
