"""Internationalisation: English and German shipped, the language chosen per person (else the
browser's), dates in the person's language unless they chose a date format of their own,
every translatable template loading i18n, and a German catalogue without gaps."""

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

from itsm.accounts.models import User
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
GERMAN_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po"
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"


@pytest.fixture(autouse=True, scope="module")
def _compiled_messages():
    """`make install` compiles the catalogues; a bare pytest run after editing a .po gets
    them compiled here (translations are reloaded by the settings change)."""
    po, mo = GERMAN_PO, GERMAN_PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["de"], ignore_patterns=[".venv"], verbosity=0)
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass
    yield


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """LocaleMiddleware leaves the browser's language active in the thread after a request;
    the next test starts from the default."""
    yield
    translation.deactivate()


def speaking(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return web(user)


# --- the language of the screens -----------------------------------------------------------


def test_a_german_agent_sees_the_workspace_in_german(agent):
    response = speaking(agent, "de").get("/work/")
    body = page(response)
    assert response["Content-Language"] == "de"
    assert '<html lang="de"' in body
    for german in ("Meine Arbeit", "Abmelden", "Störungen", "Alles durchsuchen", "Offene Arbeit"):
        assert german in body, german
    assert ">Sign out<" not in body and "Open work" not in body


def test_a_german_employee_sees_the_portal_in_german(alice):
    body = page(speaking(alice, "de").get("/portal/"))
    for german in ("Hallo Alice, wie können wir helfen?", "Störung melden", "Meine Tickets"):
        assert german in body, german
    assert "how can we help" not in body


def test_an_english_person_sees_english_whatever_the_browser_says(agent, alice):
    response = speaking(agent, "en").get("/work/", HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "en" and '<html lang="en"' in page(response)
    assert "Open work" in page(response) and "Offene Arbeit" not in page(response)
    body = page(speaking(alice, "en").get("/portal/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"))
    assert "how can we help?" in body and "Hallo" not in body


def test_as_my_browser_follows_accept_language(agent):
    client = speaking(agent, "")
    assert "Offene Arbeit" in page(client.get("/work/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"))
    assert "Open work" in page(client.get("/work/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8"))


def test_the_sign_in_page_follows_the_browser():
    german = page(Client().get("/login/", HTTP_ACCEPT_LANGUAGE="de"))
    assert "Benutzername" in german and "Passwort vergessen?" in german
    english = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Language"] == "en"
    assert "Username" in page(english) and "Benutzername" not in page(english)
    # A language we do not ship falls back to English.
    assert "Username" in page(Client().get("/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr"))


def test_a_refused_sign_in_is_told_in_the_browsers_language(agent):
    response = Client().post(
        "/login/", {"username": "agent", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "stimmen nicht überein" in page(response)


def test_a_language_we_do_not_ship_is_ignored(agent):
    agent.language = "fr"  # not offered by the form; stored by some other means
    User.objects.filter(pk=agent.pk).update(language="fr")
    response = web(agent).get("/work/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response["Content-Language"] == "en"


def test_the_chosen_language_is_kept_per_person(agent, agent2):
    client = web(agent)
    form = page(client.get("/me/"))
    assert 'name="language"' in form
    data = preferences_data(agent)
    data["language"] = "de"
    response = client.post("/me/", data)
    assert response.status_code in (200, 302), page(response)
    agent.refresh_from_db()
    assert agent.language == "de"
    # Their next page, in a fresh session too, is German; a colleague's is not.
    assert "Meine Arbeit" in page(web(agent).get("/work/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "My work" in page(web(agent2).get("/work/", HTTP_ACCEPT_LANGUAGE="en"))
    # A language we do not ship is refused on the field, nothing saved.
    data["language"] = "klingon"
    response = client.post("/me/", data)
    assert response.status_code == 400 and 'name="language"' in page(response)
    agent.refresh_from_db()
    assert agent.language == "de"
    # Back to "as my browser".
    data["language"] = ""
    client.post("/me/", data)
    agent.refresh_from_db()
    assert agent.language == ""


def preferences_data(user):
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "time_zone": user.time_zone,
        "theme": user.theme,
        "density": user.density,
        "date_format": user.date_format,
        "language": user.language,
    }


# --- dates -----------------------------------------------------------------------------------


@pytest.fixture
def opened(alice, agent):
    return factories.incident(alice, actor=agent, title="Printer on fire")


def opened_at(incident, zone, pattern):
    return incident.created_at.astimezone(ZoneInfo(zone)).strftime(pattern)


def test_dates_follow_the_language(agent, opened):
    agent.time_zone = "Europe/Berlin"
    agent.save(update_fields=["time_zone"])
    url = f"/incidents/{opened.number}/"
    german = page(speaking(agent, "de").get(url))
    assert f"<dd>{opened_at(opened, 'Europe/Berlin', '%d.%m.%Y %H:%M')}</dd>" in german
    english = page(speaking(agent, "en").get(url))
    assert f"<dd>{opened_at(opened, 'Europe/Berlin', '%Y-%m-%d %H:%M')}</dd>" in english


def test_a_chosen_date_format_wins_over_the_language(agent, opened):
    agent.date_format = "dmy"
    agent.save(update_fields=["date_format"])
    body = page(speaking(agent, "de").get(f"/incidents/{opened.number}/"))
    zone = agent.time_zone or "UTC"
    assert f"<dd>{opened_at(opened, zone, '%d/%m/%Y %H:%M')}</dd>" in body


def test_durations_are_said_in_the_language(agent):
    from datetime import timedelta

    from itsm.core.templatetags.itsm import duration

    with translation.override("de"):
        assert duration(timedelta(days=1, hours=4)) == "1 Tag 4 Stunden"
        assert duration(timedelta(seconds=5)) == "weniger als eine Minute"
    with translation.override("en"):
        assert duration(timedelta(days=2)) == "2 days"


# --- the sources -----------------------------------------------------------------------------

TRANSLATING = re.compile(r"\{%\s*(translate|trans|blocktranslate|blocktrans)\b")
LOADS_I18N = re.compile(r"\{%\s*load\s+[^%]*\bi18n\b")


def test_every_template_that_translates_loads_i18n():
    """A template's loads are its own: one that translates without loading i18n fails
    only when rendered, perhaps on a page nobody tries before a release."""
    missing = [
        str(path.relative_to(TEMPLATES_DIR))
        for path in TEMPLATES_DIR.rglob("*.html")
        if TRANSLATING.search(text := path.read_text()) and not LOADS_I18N.search(text)
    ]
    assert missing == []


def test_the_shells_are_translatable():
    """The pages everyone sees first carry no text outside translation tags: a check that
    the workspace, the portal and the sign-in page load i18n."""
    for name in (
        "workspace/base.html",
        "portal/base.html",
        "registration/login.html",
        "service_desk/portal_home.html",
        "service_desk/work_home.html",
        "403.html",
        "404.html",
    ):
        assert LOADS_I18N.search((TEMPLATES_DIR / name).read_text()), name


def po_entries(path: Path):
    """(flags, msgctxt, msgid, [msgstr…]) of each entry of a .po file, the header left out."""
    entries, current = [], None
    key = None

    def finish():
        if current and current["msgid"]:
            entries.append(current)

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            finish()
            current, key = None, None
            continue
        if current is None:
            current = {"flags": set(), "msgctxt": None, "msgid": "", "msgstr": {}}
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = line[1:-1]
            if isinstance(key, tuple):
                current["msgstr"][key[1]] += value
            else:
                current[key] = (current[key] or "") + value
        else:
            word, _, rest = line.partition(" ")
            value = rest.strip()[1:-1]
            if word.startswith("msgstr"):
                index = word[len("msgstr[") : -1] if "[" in word else "0"
                key = ("msgstr", index)
                current["msgstr"][index] = value
            else:
                key = word
                current[word] = value
    return entries


def test_every_german_message_is_translated():
    """Each msgid of the German catalogue has a translation that is neither empty nor fuzzy
    (makemessages -l de marks a new string by leaving it empty): a string added without its
    German fails here."""
    entries = po_entries(GERMAN_PO)
    assert len(entries) > 150
    untranslated = [
        (e["msgctxt"], e["msgid"])
        for e in entries
        if "fuzzy" in e["flags"] or not e["msgstr"] or not all(e["msgstr"].values())
    ]
    assert untranslated == []


def test_placeholders_survive_translation():
    """A translation keeps the placeholders of its msgid (a lost %(name)s breaks the page)."""
    placeholder = re.compile(r"%\([a-z_]+\)[sd]")
    wrong = [
        e["msgid"]
        for e in po_entries(GERMAN_PO)
        for text in e["msgstr"].values()
        if sorted(set(placeholder.findall(text))) != sorted(set(placeholder.findall(e["msgid"])))
    ]
    assert wrong == []


def test_every_workspace_and_portal_page_renders_in_german(agent, alice, admin_user):
    """Each practice's list page, the service level report, the search and the portal's
    pages answer in German without an error (a translation that breaks a page fails here)."""
    from django.urls import reverse

    from itsm.core.practices import registry

    staff = speaking(admin_user, "de")
    urls = [reverse(section.url_name) for section in registry.workspace]
    urls += ["/work/", "/search/?q=vpn", reverse("practice-map"), "/me/"]
    for url in urls:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == "de", url
    employee = speaking(alice, "de")
    for name in (
        "portal-home",
        "incidents:portal-report",
        "catalogue:catalogue",
        "catalogue:approvals",
        "knowledge:portal-home",
        "problems:portal-known-errors",
    ):
        response = employee.get(reverse(name))
        assert response.status_code == 200, name
        assert "Einstellungen" in page(response), name


# --- what the platform words: journal lines and notices ------------------------------------


def test_a_journal_line_the_platform_words_reads_in_each_readers_language(agent, opened):
    """A sentence the platform writes is stored in English (search, exports) and each
    reader reads it in their own language, whoever's language was active when written."""
    from django.utils.translation import gettext_noop

    from itsm.core import services as core
    from itsm.core.i18n import said
    from itsm.core.models import JournalEntry

    with translation.override("de"):  # written during a German agent's request
        entry = core.write_journal(
            opened,
            JournalEntry.Kind.FIELDS,
            agent,
            body=said(gettext_noop("from %(last_used_from)s"), last_used_from="192.0.2.7"),
        )
    entry.refresh_from_db()
    assert entry.body == "from 192.0.2.7"
    with translation.override("de"):
        assert entry.text == "von 192.0.2.7"
    with translation.override("en"):
        assert entry.text == "from 192.0.2.7"
    # A value that is itself a translation (a choice's label) is translated when read.
    entry = core.write_journal(
        opened,
        JournalEntry.Kind.FIELDS,
        agent,
        body=said(
            gettext_noop("from %(last_used_from)s"), last_used_from=JournalEntry.Kind.SLA.label
        ),
    )
    assert "SLA" in entry.body
    # A person's own words are kept as written.
    comment = core.write_journal(opened, JournalEntry.Kind.COMMENT, agent, body="from Berlin")
    with translation.override("de"):
        assert comment.text == "from Berlin"
    # Read through the page: a German reader's timeline shows the German line.
    core.write_journal(
        opened,
        JournalEntry.Kind.FIELDS,
        agent,
        body=said(gettext_noop("from %(last_used_from)s"), last_used_from="198.51.100.9"),
    )
    body = page(speaking(agent, "de").get(f"/incidents/{opened.number}/"))
    assert "von 198.51.100.9" in body and "from 198.51.100.9" not in body


def test_a_stored_sentence_that_no_longer_fits_its_values_still_reads():
    """A sentence stored with values its message (or its translation) no longer names
    reads in English rather than breaking the page."""
    from itsm.core.i18n import Said

    worded = Said.from_data({"message": "from %(last_used_from)s", "values": {"other": "x"}})
    assert worded.render() == "from %(last_used_from)s"
    worded = Said.from_data(
        {"message": "from %(last_used_from)s", "values": {"last_used_from": "x"}}
    )
    with translation.override("de"):
        assert worded.render() == "von x"


def test_a_notice_is_worded_in_each_recipients_language(agent, agent2, opened):
    """One notice to a German and an English colleague: each gets it in their language;
    a plain address gets the site's; the timeline records it in English."""
    from django.utils.translation import gettext_lazy

    from itsm.core import services as core
    from itsm.core.i18n import said

    agent.language, agent2.language = "de", "en"
    User.objects.filter(pk=agent.pk).update(language="de")
    User.objects.filter(pk=agent2.pk).update(language="en")
    worded = []

    def body():
        worded.append(translation.get_language())
        return said("Scopes: %(scopes)s. Expires %(expires_at)s.", scopes="read", expires_at="-")

    german_colleague = User.objects.create_user(
        "gunter", email="gunter@example.com", password="x", language="de"
    )
    rows = core.notify(
        [agent, agent2, german_colleague],
        gettext_lazy("Open work"),
        body,
        opened,
        addresses=["desk@example.com"],
    )
    by = {(n.recipient.username if n.recipient else n.address): n for n in rows}
    assert by[agent.username].subject == "Offene Arbeit"
    assert by[agent.username].body.startswith("Berechtigungen: read.")
    assert by["gunter"].subject == "Offene Arbeit"
    assert by[agent2.username].subject == "Open work"
    assert by[agent2.username].body.startswith("Scopes: read.")
    assert by["desk@example.com"].subject == "Open work"
    # Worded once per language (German, English, and the site's for the address), not
    # once per recipient.
    assert sorted(worded) == sorted(["de", "en", settings.LANGUAGE_CODE])
    from itsm.core.models import JournalEntry

    line = (
        JournalEntry.objects.for_record(opened).filter(kind=JournalEntry.Kind.NOTIFICATION).last()
    )
    assert "Open work" in line.body and "Offene Arbeit" not in line.body


# --- the scripts' texts: the JavaScript catalogue (/jsi18n/, djangojs) ----------------------

GERMAN_JS_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / "djangojs.po"
STATIC_JS_DIR = Path(settings.BASE_DIR) / "static" / "js"


def compiled_javascript_catalogue():
    """djangojs.mo as `make install` compiles it (a bare pytest run after editing the .po
    compiles it here); the catalogue's version and cached copies start afresh."""
    from django.core.cache import cache

    from itsm.core import jsi18n

    mo = GERMAN_JS_PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < GERMAN_JS_PO.stat().st_mtime:
        call_command("compilemessages", locale=["de"], ignore_patterns=[".venv"], verbosity=0)
    jsi18n.version.cache_clear()
    cache.clear()


def test_every_german_script_text_is_translated_with_its_placeholders():
    """Each msgid of djangojs.po has a German translation, none fuzzy, each keeping the
    placeholders of its msgid (interpolate() fills them by name)."""
    placeholder = re.compile(r"%\([a-z_]+\)s|%s")
    entries = po_entries(GERMAN_JS_PO)
    assert len(entries) > 30
    untranslated = [
        e["msgid"]
        for e in entries
        if "fuzzy" in e["flags"] or not e["msgstr"] or not all(e["msgstr"].values())
    ]
    assert untranslated == []
    wrong = [
        e["msgid"]
        for e in entries
        for text in e["msgstr"].values()
        if sorted(set(placeholder.findall(text))) != sorted(set(placeholder.findall(e["msgid"])))
    ]
    assert wrong == []


def test_the_javascript_catalogue_speaks_the_persons_language(agent, agent2):
    """/jsi18n/ answers the German texts to a German agent (and to a German browser not
    signed in: the sign-in page), none to an English one; no other language's copy is
    ever reused (the ETag names the language); pages load it with their nonce before
    their own scripts."""
    compiled_javascript_catalogue()
    german = speaking(agent, "de").get("/jsi18n/")
    assert german.status_code == 200
    assert german["Content-Type"].startswith("text/javascript")
    body = page(german)
    assert '"Contact card": "Kontaktkarte"' in body
    assert '"%(count)s selected": [' in body and "%(count)s ausgew\\u00e4hlt" in body
    assert "eval(" not in body and "Function(" not in body  # runs under the CSP
    english = speaking(agent2, "en").get("/jsi18n/")
    assert english.status_code == 200
    assert "Kontaktkarte" not in page(english) and "django.gettext" in page(english)
    assert german["ETag"] != english["ETag"]
    # The German copy's ETag does not make an English agent's request a 304.
    again = speaking(agent2, "en").get("/jsi18n/", HTTP_IF_NONE_MATCH=german["ETag"])
    assert again.status_code == 200
    assert (
        speaking(agent, "de").get("/jsi18n/", HTTP_IF_NONE_MATCH=german["ETag"]).status_code == 304
    )
    # Not signed in: the browser's language.
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert "Kontaktkarte" in page(anonymous.get("/jsi18n/"))
    sign_in_page = page(anonymous.get("/login/"))
    script = re.search(
        r'<script src="(/jsi18n/\?l=de&amp;v=\w+)" nonce="[^"]+"></script>', sign_in_page
    )
    assert script, "the sign-in page loads the German catalogue with its nonce"
    assert sign_in_page.index(script.group(0)) < sign_in_page.index("js/app.js")
    workspace = page(speaking(agent, "de").get("/work/"))
    assert "/jsi18n/?l=de&amp;v=" in workspace
    assert workspace.index("/jsi18n/") < workspace.index("js/pickers.js")


def test_the_admin_builders_load_the_catalogue_before_their_script():
    from itsm.core.builders import BUILDER_MEDIA

    with translation.override("de"):
        scripts = str(BUILDER_MEDIA["js"])
    assert scripts.index("/jsi18n/?l=de") < scripts.index("js/builders.js")


#: A string literal of static/js; what wraps it (gettext(" or ngettext("…", ) and what is
#: around it (a selector, a text, a label) say whether it is shown to people.
_JS_LITERAL = re.compile(r"""(?P<q>["'])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
_JS_WRAPPED = re.compile(
    r"""\b(?:n?gettext|pgettext)\(\s*$|\bngettext\(\s*(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')\s*,\s*$"""
)
_JS_SELECTOR = re.compile(
    r"\b(?:querySelector|querySelectorAll|closest|matches|within)\([^()]*$|\bselector\s*:\s*$"
)
_JS_SHOWN_AT = re.compile(
    r"""(?:\b(?:text|title|placeholder|label|textContent|innerText)\s*[:=]\s*"""
    r"""|["']aria-label["']\s*[:,]\s*|\b(?:alert|confirm|prompt|button|errorLine)\(\s*"""
    r"""|\?\s*|\|\|\s*|\+\s*)$"""
)
#: Literals that read like words but are not shown: key and event names, directives.
_JS_TECHNICAL = {
    "use strict", "DOMContentLoaded", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight",
    "Enter", "Escape", "Backspace", "Home", "End", "Accept", "SELECT", "FORM", "INPUT",
    "TEXTAREA", "HTTP ", "true", "false",
}  # fmt: skip


def _js_shown(text, before, after):
    """Whether a literal reads as words for people (a heuristic: prose, or a capitalised
    word, or a word put where a text, a label or a title goes)."""
    if text in _JS_TECHNICAL or _JS_SELECTOR.search(before):
        return False
    if re.search(r"[\[\]=#>{}$\\<]|//", text):
        return False
    words = re.findall(r"[A-Za-z\u00c0-\u024f][\w'\u2019.-]*", text)
    if not words or any(re.search(r"[-_]|[a-z][A-Z]|\w\.\w", w) for w in words):
        return False  # class names, data attributes, identifiers, file names
    if re.search(r"[A-Za-z]{2,}", text) and (
        re.search(r"\s|…", text.strip()) or text != text.strip() or re.match(r"^[:,(]", text)
    ):
        return True
    if re.fullmatch(r"[A-Z][a-z]+", text):
        return True
    placed = _JS_SHOWN_AT.search(before) or re.match(r"\s*\+", after)
    return bool(placed and re.fullmatch(r"[A-Za-z]{2,}[.…]?", text)) and (
        not re.fullmatch(r"[a-z]+", text)
        or bool(re.search(r"\b(?:text|placeholder|title)\s*:\s*$", before))
    )


def unwrapped_js_texts(source: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        code = re.sub(r"^\s*(//|/?\*).*", "", line)
        code = re.sub(r"\s//\s.*$", "", code)
        for match in _JS_LITERAL.finditer(code):
            before, after = code[: match.start()], code[match.end() :]
            if _js_shown(match["s"], before, after) and not _JS_WRAPPED.search(before):
                found.append((number, match["s"]))
    return found


def test_no_script_text_shown_to_people_is_left_untranslatable():
    """Every text static/js shows to people goes through gettext()/ngettext() (a heuristic
    over its string literals; it flags the kinds of text the scripts had before)."""
    # The check can fail: these are lines as the scripts had them.
    assert [text for _, text in unwrapped_js_texts(
        'label.textContent = count === 1 ? "1 selected" : count + " selected";\n'
        'var none = make("li", "picker-empty muted", "No matches.");\n'
        'cardButton.setAttribute("aria-label", "Contact card");\n'
        'rows.appendChild(el("p", { class: "builder-or", text: "or" }));\n'
        'var select = el("select", { "aria-label": "Attribute" });\n'
        'document.querySelectorAll("a, button, input, label, td.pick");\n'
        'label.textContent = gettext("No matches.");\n'
    )] == ["1 selected", " selected", "No matches.", "Contact card", "or", "Attribute"]  # fmt: skip
    left = {
        f"{path.name}:{number}": text
        for path in sorted(STATIC_JS_DIR.glob("*.js"))
        for number, text in unwrapped_js_texts(path.read_text(encoding="utf-8"))
    }
    assert left == {}
    # ...and every script still works without the catalogue (English as written).
    for path in sorted(STATIC_JS_DIR.glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for name in ("gettext", "ngettext", "interpolate"):
            if re.search(rf"\b{name}\(", source):
                assert f"var {name} = window.{name} ||" in source, (path.name, name)
