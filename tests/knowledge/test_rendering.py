from practices.knowledge.rendering import excerpt, render_markdown


def test_markdown_is_rendered():
    html = render_markdown("# Title\n\n**bold** and [a link](https://example.com)\n\n- one\n- two")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">a link</a>' in html
    assert "<li>one</li>" in html


def test_scripts_event_handlers_and_javascript_links_are_removed():
    source = (
        "Hello <script>alert('x')</script>\n\n"
        '<img src="https://example.com/a.png" onerror="alert(1)">\n\n'
        '<a href="javascript:alert(1)" onclick="steal()">click</a>\n\n'
        "[md link](javascript:alert(2))\n\n"
        '<p style="color:red" onmouseover="x()">styled</p>\n\n'
        '<iframe src="https://evil.example"></iframe>'
    )
    html = render_markdown(source)
    lowered = html.lower()
    assert "<script" not in lowered and "alert('x')" not in html
    assert "onerror" not in lowered and "onclick" not in lowered and "onmouseover" not in lowered
    assert "javascript:" not in lowered
    assert "style=" not in lowered and "<iframe" not in lowered
    assert "example.com/a.png" not in html  # an external image is not loaded
    assert "click" in html and "styled" in html


def test_excerpt_is_plain_text():
    assert excerpt("## Steps\n\n**Open** the `client` <b>now</b>") == "Steps Open the client now"
    assert excerpt("word " * 100, 20).endswith("…")
