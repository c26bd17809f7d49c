"""Markup consumers (bs4): script tags, templates, inline scripts with exact positions, encodings."""

from __future__ import annotations

import pytest

from jsonp2cors.findings import Consumer
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.markup import (
    analyze_markup_file,
    analyze_python_strings,
    analyze_web_file,
    decode_markup,
    is_template_path,
)

CONFIG = ScanConfig()


def found(page: str, rel: str = "page.html") -> list[Consumer]:
    return sorted(
        analyze_markup_file(rel, page.encode("utf-8"), CONFIG).consumers, key=lambda c: (c.line, c.column)
    )


def test_script_src_with_callback() -> None:
    (c,) = found(
        '<html>\n  <script src="https://API.Example.com:8443/news?jsoncallback=show&amp;n=3"></script>'
    )
    assert (c.line, c.column, c.kind) == (2, 3, "script-tag")
    assert (c.url, c.callback_param, c.callback) == (
        "https://API.Example.com:8443/news?jsoncallback=show&n=3",
        "jsoncallback",
        "show",
    )
    assert c.target == "https://api.example.com:8443" and c.migratable


@pytest.mark.parametrize(
    ("src", "callback"),
    [
        ("{{ api_base }}/weather?callback=show", "show"),
        ("{% url 'weather' %}?callback=show", "show"),
        ("<?php echo $base->url(); ?>/weather?callback=<?= $cb ?>", "<?= $cb ?>"),
        ("<%= base %>/weather?cb=show", "show"),
        ("${base}/weather?jsonp=show", "show"),
    ],
)
def test_templated_urls_have_no_target(src: str, callback: str) -> None:
    (c,) = found(f'<p>{{% if x > 1 %}}</p>\n<script src="{src}"></script>')
    assert c.url == src and c.callback == callback and c.target is None and c.line == 2


@pytest.mark.parametrize(
    "page",
    [
        '<script src="/static/app.js?v=callback"></script>',
        '<script src="/api/x?callbacks=1"></script>',
        '<a href="/api/weather?callback=x">docs</a><img src="/x?cb=1"><link href="/y?callback=z">',
        '<!-- <script src="/api/x?callback=y"></script> -->',
        '{# <script src="/api/x?callback=y"></script> #}',
        '{% comment %}<script src="/api/x?callback=y"></script>{% endcomment %}',
        '<%-- <script src="/api/x?callback=y"></script> --%>',
        '<script type="application/ld+json">{"u": "/api/x?callback=y"}</script>',
        '<script type="application/json">$.getJSON("/x?callback=?")</script>',
        '<script src="https://www.youtube.com/iframe_api"></script>',
    ],
)
def test_near_misses(page: str) -> None:
    assert found(page) == []


def test_loaders_are_reported_but_not_migratable() -> None:
    result = found(
        '<script src="https://maps.googleapis.com/maps/api/js?key=K&callback=initMap"></script>\n'
        '<script src="https://www.google.com/recaptcha/api.js?onload=ready"></script>\n'
        '<script src="https://js.hcaptcha.com/1/api.js?onload=hready&render=explicit"></script>\n'
        '<script src="https://apis.google.com/js/api.js?onload=gapiReady"></script>'
    )
    assert [(c.callback_param, c.callback, c.migratable) for c in result] == [
        ("callback", "initMap", False),
        ("onload", "ready", False),
        ("onload", "hready", False),
        ("onload", "gapiReady", False),
    ]
    assert "Google Maps" in (result[0].detail or "")


def test_inline_script_positions_are_in_the_html_file() -> None:
    page = (
        "<!doctype html>\n<html><head>\n<title>x</title></head>\n<body>\n"
        '<div>  <script>var a = 1;\n  $.ajax({\n    url: "/api/x",\n    dataType: "jsonp"\n  });\n'
        '</script><script>$.getJSON("/y?callback=?")</script>\n</body></html>\n'
    )
    result = found(page)
    assert [(c.line, c.column, c.kind) for c in result] == [(6, 3, "jquery-ajax"), (10, 18, "jquery-getjson")]
    lines = page.splitlines()
    for c in result:
        assert lines[c.line - 1][c.column - 1 :].startswith("$.")


def test_inline_script_on_the_tag_line() -> None:
    (c,) = found('<p>x</p>\n  <script data-x="$.ajax">  $.getJSON("/q?cb=?")</script>')
    assert (c.line, c.column) == (2, 29)


def test_crlf_pages_count_lines_like_editors() -> None:
    (c,) = found('<html>\r\n<body>\r\n<script>\r\n\r\n$.getJSON("/q?callback=?");\r\n</script>')
    assert c.line == 5


def test_template_script_blocks_are_read_as_markup() -> None:
    (c,) = found(
        '<p></p>\n<script type="text/x-template">\n  <div><script src="/api/w?callback=f"></script></div>\n'
        "</script>"
    )
    assert (c.line, c.kind) == (3, "script-tag")


def test_unterminated_script_is_read_and_reported() -> None:
    out = analyze_markup_file("p.html", b'<html>\n<script>\n$.getJSON("/q?callback=?");\n', CONFIG)
    assert [c.line for c in out.consumers] == [3]
    assert "unterminated" in out.errors[0].message and out.errors[0].line == 2


def test_vue_single_file_component() -> None:
    page = (
        "<template>\n  <div>{{ a > b }}</div>\n</template>\n"
        '<script setup>\nimport fetchJsonp from "fetch-jsonp";\n'
        "fetchJsonp(`/api/w/${city}`);\n</script>\n"
    )
    (c,) = found(page, "Widget.vue")
    assert (c.line, c.kind, c.url) == (6, "other", "/api/w/{city}")


def test_php_blocks_do_not_break_the_tokenizer() -> None:
    page = '<?php if ($a->b > 2 && $c < 3) { ?>\n<script src="/api/x?callback=f"></script>\n<?php } ?>'
    assert [c.line for c in found(page, "index.php")] == [2]


def test_encodings() -> None:
    assert decode_markup("caf\xe9".encode()) == ("caf\xe9", None)
    latin = '<meta charset="iso-8859-1"><p>caf\xe9</p>'.encode("latin-1")
    assert decode_markup(latin)[0].endswith("caf\xe9</p>") and decode_markup(latin)[1] is None
    text, note = decode_markup(b"<p>\x93quoted\x94 \x81</p>")
    assert "\u201cquoted\u201d" in text and note is not None and "cp1252" in note
    out = analyze_markup_file("old.html", b'<p>\x93</p>\n<script src="/x?callback=f"></script>', CONFIG)
    assert [c.line for c in out.consumers] == [2] and "cp1252" in out.errors[0].message


def test_pages_without_script_tags_are_not_parsed() -> None:
    out = analyze_markup_file("p.html", b"<p>callback=?</p>", CONFIG)
    assert out.consumers == [] and not out.parsed


def test_dispatch_by_suffix_and_template_paths() -> None:
    assert (
        analyze_web_file("a.js", b'$.getJSON("/q?callback=?")', CONFIG).consumers[0].kind == "jquery-getjson"
    )
    assert is_template_path("app/templates/widget.txt") and is_template_path("templates/x")
    assert not is_template_path("app/templates/logo.png") and not is_template_path("app/views.py")


# ------------------------------------------------------------------------- <script> in Python strings

PY = '''"""Module doc: partners paste <script src="/api/news?callback=fn"> into their pages."""
API = "https://data.example.com"


def snippet(cb):
    """Returns <script src="/api/doc?callback=x">."""
    html = '<div></div><script src="/api/a?callback=%s"></script>' % cb
    return html + (
        "<p>"
        f'<script src="{API}/api/b?jsonp={cb}"></script>'
    )


TEMPLATE = """
<html>
  <script src="https://data.example.com/api/c?callback=show"></script>
</html>
"""
'''


def test_script_tags_in_python_strings() -> None:
    out = analyze_python_strings("views.py", PY.encode(), CONFIG)
    got = [(c.line, c.column, c.url, c.callback_param, c.target) for c in out.consumers]
    assert got == [
        (7, 24, "/api/a?callback=%s", "callback", None),
        (10, 11, "{API}/api/b?jsonp={cb}", "jsonp", None),
        (16, 3, "https://data.example.com/api/c?callback=show", "callback", "https://data.example.com"),
    ]
    assert (
        analyze_python_strings("bad.py", b"def f(:\n  '<script src=\"/x?callback=y\">'\n  (", CONFIG)
        is not None
    )


def test_event_handler_attributes_and_javascript_links() -> None:
    page = (
        "<html>\n<body onload=\"$.getJSON('/api/a?callback=?', show)\">\n"
        '  <a href="javascript:$.ajax({url: \'/api/b\', dataType: \'jsonp\'})">b</a>\n'
        '  <button onclick="toggle(this)">x</button>\n</body></html>'
    )
    got = [(c.line, c.column, c.kind, c.url) for c in found(page)]
    assert got == [(2, 1, "jquery-getjson", "/api/a?callback=?"), (3, 3, "jquery-ajax", "/api/b")]


def test_wrapper_calls_in_attributes_reach_the_whole_repo_pass() -> None:
    page = b"<script></script><body onload=\"getRemote('/api/x', show)\">"
    out = analyze_markup_file("p.html", page, CONFIG)
    assert out.facts["calls"] == [{"callee": "getRemote", "line": 1, "column": 18, "args": ["/api/x", None]}]
