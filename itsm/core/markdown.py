"""Rich text people write (articles, release notes…): Markdown rendered on the server and
sanitised with one allow-list, so that every practice shows user Markdown the same safe
way (``render_markdown``: a page passes the rendered text to its template)."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["extra", "sane_lists"]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
}
#: No javascript:, data: or vbscript: links; relative links are kept.
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> SafeString:
    """Markdown → HTML that is safe to show: scripts (with their content), styles, event
    handlers, unknown attributes and links other than http(s)/mailto are removed."""
    html = markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 (sanitised by nh3 with the allow-list above)
