"""``{% portal_section as section %}``: which link of the portal's navigation the page
belongs to (it is marked ``aria-current``)."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()

#: (section, URL name of the section's root), most specific first.
SECTIONS = (
    ("report", "incidents:portal-report"),
    ("approvals", "catalogue:approvals"),
    ("catalogue", "catalogue:catalogue"),
    ("knowledge", "knowledge:portal-home"),
    ("known-issues", "problems:portal-known-errors"),
)
#: The pages of one's own tickets (an issue's, a request's).
TICKET_PREFIXES = ("/portal/issues/", "/portal/requests/")


@register.simple_tag(takes_context=True)
def portal_section(context) -> str:
    request = context.get("request")
    path = getattr(request, "path", "")
    for section, url_name in SECTIONS:
        try:
            root = reverse(url_name)
        except NoReverseMatch:
            continue
        if path.startswith(root):
            return section
    if path.startswith(TICKET_PREFIXES):
        return "tickets"
    return ""
