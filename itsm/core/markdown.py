"""Rich text people write (articles, release notes…): Markdown rendered on the server and
sanitised with one allow-list, so that every practice shows user Markdown the same safe
way (``render_markdown``: a page passes the rendered text to its template)."""

from html import escape
from html.parser import HTMLParser

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


def is_local_image(src: str) -> bool:
    """An image of this site (an attachment, a media or static file): a path from the root,
    not ``//host/…`` nor ``/\\host/…`` (which browsers read as another host)."""
    return src.startswith("/") and not src.startswith(("//", "/\\"))


def _image_src_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not is_local_image(value):
        return None  # an external image (a tracking pixel…): not loaded; see _ImageText
    return value


class _ImageText(HTMLParser):
    """Finds the images left without a source in sanitised HTML, to put their alt text in
    their place (the reader keeps what the image was about)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.replacements: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img" and not dict(attrs).get("src"):
            alt = dict(attrs).get("alt") or ""
            text = self.get_starttag_text()
            self.replacements.append((text, escape(alt)))

    handle_startendtag = handle_starttag


def _drop_external_images(html: str) -> str:
    if "<img" not in html:
        return html
    parser = _ImageText()
    parser.feed(html)
    parser.close()
    out, cursor = [], 0
    for tag, text in parser.replacements:
        at = html.index(tag, cursor)
        out += [html[cursor:at], text]
        cursor = at + len(tag)
    return "".join(out) + html[cursor:]


def render_markdown(text: str) -> SafeString:
    """Markdown → HTML that is safe to show: scripts (with their content), styles, event
    handlers, unknown attributes and links other than http(s)/mailto are removed, and
    images from other sites (tracking pixels) are replaced by their alt text."""
    html = markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_image_src_filter,
    )
    return mark_safe(_drop_external_images(clean))  # noqa: S308 (sanitised by nh3 with the allow-list above)
