"""Markdown keeps only the site's own images: an external one (a tracking pixel that would
tell its owner who read the article, and when) is replaced by its alt text."""

import pytest

from itsm.core.markdown import render_markdown
from practices.knowledge import services
from tests.factories import page, web
from tests.knowledge.conftest import publish

BODY = (
    "Read this.\n\n"
    "![pixel](https://tracker.example/p.gif?u=1) "
    "![The VPN client](/attachments/12/download/)\n\n"
    '<img src="http://tracker.example/q.gif" alt="raw pixel" width="1" height="1">\n\n'
    '<img src="//tracker.example/r.gif" alt="protocol-relative">\n\n'
    "![backslash](/\\tracker.example/s.gif)\n\n"
    "![inline](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)"
)


def test_external_images_disappear_and_attachment_images_stay():
    html = render_markdown(BODY)
    assert "tracker.example" not in html and "data:" not in html
    assert html.count("<img") == 1
    assert '<img alt="The VPN client" src="/attachments/12/download/">' in html
    for alt in ("pixel", "raw pixel", "protocol-relative", "backslash", "inline"):
        assert alt in html  # what the image was about stays readable


def test_alt_text_of_a_dropped_image_is_escaped():
    html = render_markdown('<img src="https://t.example/x.gif" alt="<b>&amp;">')
    assert "<b>" not in html and "&lt;b&gt;&amp;" in html


@pytest.mark.django_db
def test_a_reader_of_an_article_loads_no_external_image(agent, manager, alice, vpn):
    article = services.create_article(
        agent, {"title": "VPN client", "summary": "How", "body": BODY, "category": vpn}
    )
    article = publish(article, agent, manager)
    html = page(web(alice).get(f"/portal/knowledge/{article.number}/"))
    assert "tracker.example" not in html
    assert 'src="/attachments/12/download/"' in html
