"""JavaScript consumer detectors (tree-sitter), one behaviour per test, near-misses included."""

from __future__ import annotations

import pytest

from jsonp2cors.findings import Consumer
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.javascript import analyze_js_file, analyze_js_text, finish_wrappers, looks_minified

CONFIG = ScanConfig()


def found(source: str, config: ScanConfig = CONFIG) -> list[Consumer]:
    return sorted(analyze_js_text(source, "app.js", config).consumers, key=lambda c: (c.line, c.column))


def one(source: str) -> Consumer:
    result = found(source)
    assert len(result) == 1, result
    return result[0]


# ------------------------------------------------------------------------------------------- jQuery


def test_ajax_datatype_jsonp_multiline_reports_the_call_line() -> None:
    c = one(
        '\n\n$.ajax({\n  url: "https://api.example.com/news",\n  dataType: "jsonp",\n'
        '  jsonp: "cb",\n  jsonpCallback: "gotNews"\n});\n'
    )
    assert (c.line, c.column, c.kind) == (3, 1, "jquery-ajax")
    assert (c.url, c.callback_param, c.callback) == ("https://api.example.com/news", "cb", "gotNews")
    assert c.target == "https://api.example.com"


def test_ajax_url_as_first_argument_and_settings_in_a_variable() -> None:
    c = one('var opts = {dataType: "JSONP"};\njQuery.ajax("/api/x", opts);')
    assert (c.kind, c.url, c.callback_param, c.line) == ("jquery-ajax", "/api/x", "callback", 2)


def test_ajax_jsonp_false_has_no_parameter() -> None:
    c = one('$.ajax({url: "/api/x?callback=fixed", dataType: "jsonp", jsonp: false});')
    assert c.callback_param == "callback" and c.callback == "fixed"


def test_get_with_jsonp_datatype_argument() -> None:
    assert one('$.get("/api/x", {}, function (d) {}, "jsonp");').kind == "jquery-ajax"


def test_getjson_with_placeholder() -> None:
    c = one('$.getJSON("/api/quote?jsoncallback=?", function (d) {});')
    assert (c.kind, c.callback_param, c.callback) == ("jquery-getjson", "jsoncallback", "?")


def test_datatype_json_with_placeholder_switches_to_jsonp() -> None:
    c = one('$.ajax({url: "/api/top?jsonp=?", dataType: "json"});')
    assert c.kind == "jquery-getjson" and c.callback_param == "jsonp"
    assert c.detail is not None and "switches to JSONP" in c.detail


def test_placeholder_without_datatype_is_reported_with_a_note() -> None:
    c = one('$.ajax({url: "/api/x?callback=?"});')
    assert c.kind == "jquery-getjson" and "Zepto" in (c.detail or "")


def test_zepto_ajax_jsonp() -> None:
    c = one("$.ajaxJSONP({url: 'http://example.com/projects?callback=?', success: fn});")
    assert (c.kind, c.callback_param, c.target) == ("jquery-getjson", "callback", "http://example.com")


def test_wrapper_whose_url_is_not_the_first_parameter() -> None:
    result = found(
        "function jsonpCallback(callback, t, u, d, f) {\n"
        '  $.ajax({dataType: "JSONP", jsonp: "callback", jsonpCallback: callback, url: u, data: d});\n'
        "}\n"
        'jsonpCallback("showBudget", "GET", "/api/budget", {}, render);\n'
    )
    got = [(c.line, c.url, c.callback) for c in result]
    assert got == [(2, "{u}", "callback"), (4, "/api/budget", "showBudget")]


def test_placeholder_in_data_string() -> None:
    assert one('$.ajax({url: "/api/top", dataType: "json", data: "callback=?"});').kind == "jquery-getjson"


@pytest.mark.parametrize(
    "source",
    [
        '$.getJSON("/api/status", function (callback) {});',
        '$.post("/api/x?callback=?", {});',  # no dataType on a shorthand: sent literally
        '$.ajax({url: "/api/json", dataType: "json", success: callback});',
        'fetch("/api/weather?format=json").then(callback);',
        'var x = new XMLHttpRequest(); x.open("GET", "/api/x?cb=1");',
        'document.addEventListener("DOMContentLoaded", callback);',
        'var callback = "show"; fetch("/api/y");',
        'obj.jsonp = true; var s = "callback=?";',
        '$.getScript("/static/plugin.js");',
    ],
)
def test_near_misses(source: str) -> None:
    assert found(source) == []


# ------------------------------------------------------------------------------------------ Angular


def test_http_jsonp_with_sce_and_callback_param() -> None:
    c = one(
        'var API = "https://api.example.com";\n'
        '$http.jsonp($sce.trustAsResourceUrl(API + "/feed"), {jsonpCallbackParam: "cb"});'
    )
    assert (c.kind, c.url, c.callback_param, c.target) == (
        "angular-jsonp",
        "https://api.example.com/feed",
        "cb",
        "https://api.example.com",
    )


def test_http_jsonp_with_json_callback_placeholder() -> None:
    c = one('$http.jsonp("/api/old?jsonp=JSON_CALLBACK");')
    assert (c.callback_param, c.callback) == ("jsonp", "JSON_CALLBACK")


def test_angular_httpclient_jsonp() -> None:
    c = one('this.http.jsonp("/api/x", "callback").subscribe();')
    assert c.kind == "angular-jsonp" and c.callback_param == "callback"


def test_http_config_method_jsonp() -> None:
    assert one('$http({method: "jsonp", url: "/api/x"});').kind == "angular-jsonp"


def test_resource_actions_with_method_jsonp_report_each_action() -> None:
    result = found(
        'var R = $resource("/api/things/:id", {}, {\n'
        '  query: {method: "JSONP", params: {cb: "JSON_CALLBACK"}},\n'
        '  save: {method: "POST"},\n'
        '  get: {method: "JSONP", url: "/api/thing"}\n});'
    )
    assert [(c.line, c.url, c.callback_param) for c in result] == [
        (2, "/api/things/:id", "cb"),
        (4, "/api/thing", "callback"),
    ]


# ------------------------------------------------------------------------------------ dynamic script


def test_create_element_with_callback_in_src() -> None:
    c = one(
        'function go() {\n  var s = document.createElement("script");\n'
        '  s.src = "https://x.example.com/api?callback=" + "show";\n  document.body.appendChild(s);\n}'
    )
    assert (c.kind, c.line, c.column, c.callback) == ("dynamic-script", 2, 11, "show")


def test_set_attribute_src() -> None:
    c = one('var el = document.createElement("SCRIPT"); el.setAttribute("src", "/api/x?jsonp=fn");')
    assert c.callback_param == "jsonp" and c.callback == "fn"


def test_paired_window_global_with_bracket_name() -> None:
    c = one(
        "function load(id) {\n  window.__cb__[id] = function (d) {};\n"
        '  var el = document.createElement("script");\n  el.src = "/api/item/" + id;\n}'
    )
    assert (c.line, c.callback, c.url) == (3, "__cb__[id]", "/api/item/{id}")


def test_angular_document_and_window_services() -> None:
    c = one(
        'var name = "cb_" + n; $window[name] = fn;\n'
        'var tag = $document[0].createElement("script"); tag.src = "/api/legacy";'
    )
    assert (c.kind, c.line, c.callback) == ("dynamic-script", 2, "cb_{n}")


@pytest.mark.parametrize(
    "source",
    [
        'window.onload = function () { var a = document.createElement("script"); a.src = "/static/ga.js"; };',
        'var s = document.createElement("script"); s.src = "/static/app.js"; s.onload = callback;',
        'var d = document.createElement("div"); d.src = "/api/x?callback=y";',
    ],
)
def test_dynamic_script_near_misses(source: str) -> None:
    assert found(source) == []


def test_known_sdk_loader_is_not_migratable() -> None:
    c = one(
        'var m = document.createElement("script");\n'
        'm.src = "https://maps.googleapis.com/maps/api/js?key=K&callback=initMap";'
    )
    assert c.migratable is False and c.callback == "initMap" and "Google Maps" in (c.detail or "")


def test_facebook_sdk_global_is_not_migratable() -> None:
    c = one(
        "function fb() { window.fbAsyncInit = function () {};\n"
        '  var js = document.createElement("script"); js.src = "https://connect.facebook.net/en_US/sdk.js"; }'
    )
    assert c.migratable is False


# -------------------------------------------------------------------------------------- libraries


@pytest.mark.parametrize(
    ("source", "detail", "param"),
    [
        (
            'import fetchJsonp from "fetch-jsonp";\nfetchJsonp("/api/x", {jsonpCallback: "cb"});',
            "fetch-jsonp",
            "cb",
        ),
        ('fetchJsonp("/api/x");', "fetch-jsonp", "callback"),
        ('const jsonp = require("jsonp");\njsonp("/api/x", {param: "c"}, fn);', "npm jsonp", "c"),
        ('import get from "jsonp";\nget("/api/x", fn);', "npm jsonp", "callback"),
        ('dojo.io.script.get({url: "/api/x", callbackParamName: "cb"});', "dojo.io.script", "cb"),
        (
            'define(["dojo/request/script"], function (s) { s.get("/api/x", {jsonp: "callback"}); });',
            "dojo/request/script",
            "callback",
        ),
        ('Y.jsonp("/api/x?cb={callback}", fn);', "YUI", "cb"),
        (
            'new Request.JSONP({url: "/api/x", callbackKey: "jsoncallback"}).send();',
            "MooTools",
            "jsoncallback",
        ),
        ('Ext.data.JsonP.request({url: "/api/x"});', "Ext.data.JsonP", "callback"),
        (
            'Ext.create("Ext.data.Store", {proxy: {type: "jsonp", url: "/api/x"}});',
            "Ext JS jsonp proxy",
            "callback",
        ),
        ('Vue.http.jsonp("/api/x", {jsonp: "cb"});', "vue-resource", "cb"),
    ('m.jsonp({url: "/api/x/:id", params: {id: 1}, callbackKey: "cb"});', "Mithril", "cb"),
    ],
)
def test_libraries(source: str, detail: str, param: str) -> None:
    c = one(source)
    assert c.kind == "other" and detail in (c.detail or "") and c.callback_param == param
    assert c.url is not None and c.url.startswith("/api/x")


def test_library_near_misses() -> None:
    assert (
        found(
            'define(["dojo/request/script"], function (s) { s.get("/static/banner.js"); });\n'
            'dojo.io.script.get({url: "/static/x.js"});\njsonp("/api/x");'
        )
        == []
    )


# --------------------------------------------------------------------------------------- wrappers


WRAPPER = """function getRemote(url, done) {
  var name = "cb" + (n++);
  window[name] = done;
  var s = document.createElement("script");
  s.src = url + (url.indexOf("?") < 0 ? "?" : "&") + "callback=" + name;
  document.head.appendChild(s);
}
"""


def test_wrapper_and_its_call_sites() -> None:
    result = found(
        WRAPPER + 'getRemote("/api/news", show);\ngetRemote(someUrl, show);\n'
        'function weather(city) { getRemote("/api/weather/" + city, show); }\n'
    )
    assert [(c.line, c.url) for c in result] == [
        (4, "{url}?callback=cb{…}"),
        (8, "/api/news"),
        (10, "/api/weather/{city}"),
    ]
    assert "inside JSONP wrapper getRemote" in (result[0].detail or "")
    assert all(c.kind == "dynamic-script" and c.callback_param == "callback" for c in result)


def test_wrapper_of_a_wrapper() -> None:
    result = found(
        WRAPPER + "function api(path, cb) { getRemote(BASE + path, cb); }\n"
        'var BASE = "https://api.example.com";\napi("/v1/stocks", show);\n'
    )
    assert [(c.line, c.url) for c in result][-1] == (10, "/v1/stocks")


def test_function_using_a_parameter_inside_the_path_is_not_a_wrapper() -> None:
    result = found('function item(id) { $.ajax({url: "/api/item/" + id, dataType: "jsonp"}); }\nitem(5);')
    assert len(result) == 1 and result[0].line == 1


def test_wrappers_across_files_via_finish() -> None:
    lib = analyze_js_text(
        "var Api = {\n  jsonpLoad: function (url, cb) {\n" + WRAPPER.split("\n", 1)[1], "lib.js", CONFIG
    )
    page = analyze_js_text(
        'Api.jsonpLoad("/api/news?limit=3", render);\nApi.other("/api/x");', "page.js", CONFIG
    )
    assert lib.facts["wrappers"] and lib.facts["followup_needles"] == [b"jsonpload"]
    extra = finish_wrappers([("lib.js", lib.facts), ("page.js", page.facts)], CONFIG)
    assert [(c.file, c.line, c.url, c.kind) for c in extra.consumers] == [
        ("page.js", 1, "/api/news?limit=3", "dynamic-script")
    ]


def test_configured_helper_names() -> None:
    config = ScanConfig(helper_names=("legacyGet",))
    c = found('legacyGet("/api/x", fn);', config)
    assert len(c) == 1 and c[0].kind == "other"


# ------------------------------------------------------------------------------------ resolution


def test_template_literal_and_constant_objects() -> None:
    c = one(
        'const CFG = {api: "https://API.example.com:443/v2"};\nconst path = `/news/${id}`;\n'
        '$.ajax({url: `${CFG.api}${path}?x=1`, dataType: "jsonp"});'
    )
    assert c.url == "https://API.example.com:443/v2/news/{id}?x=1" and c.target == "https://api.example.com"


def test_scoped_variables_do_not_leak() -> None:
    result = found(
        'function a() { var u = "/api/a"; $.ajax({url: u, dataType: "jsonp"}); }\n'
        'function b() { var u = "/api/b"; $.ajax({url: u, dataType: "jsonp"}); }'
    )
    assert [c.url for c in result] == ["/api/a", "/api/b"]


def test_unresolved_prefix_has_no_target() -> None:
    c = one('$.ajax({url: window.API_BASE + "/x", dataType: "jsonp"});')
    assert c.url == "{window.API_BASE}/x" and c.target is None


def test_script_tag_inside_a_template_string() -> None:
    c = one(
        'const html = `<div>\n  <script src="https://w.example.com/api?callback=${cb}"></script>\n</div>`;'
    )
    assert (c.kind, c.line, c.column, c.callback) == ("script-tag", 2, 3, "${cb}")


# ------------------------------------------------------------------------------------ robustness


def test_minified_bundle_is_skipped_with_a_note() -> None:
    data = b"var a=1;" * 4000 + b'$.ajax({url:"/x",dataType:"jsonp"});'
    assert looks_minified(data)
    result = analyze_js_file("bundle.js", data, CONFIG)
    assert result.consumers == [] and "minified" in result.errors[0].message
    assert len(analyze_js_file("bundle.js", data, ScanConfig(include_vendored=True)).consumers) == 1


def test_deep_nesting_and_broken_code_do_not_crash() -> None:
    analyze_js_text("(" * 5000 + ")" * 10, "deep.js", CONFIG)
    analyze_js_text("$.ajax({url: '/x', dataType: 'jsonp'" + "[" * 3000, "broken.js", CONFIG)
    analyze_js_text("\x00\ud800 {{ }} {% if %} <?php ?>", "odd.js", CONFIG)


def test_non_utf8_javascript() -> None:
    data = '// caf\xe9\n$.getJSON("/api/x?callback=?");'.encode("cp1252")
    assert [c.line for c in analyze_js_file("latin.js", data, CONFIG).consumers] == [2]


def test_global_set_outside_a_promise_executor() -> None:
    c = one(
        "function jsonp(url) {\n  const cb = `jp_${Date.now()}`;\n  return new Promise((resolve) => {\n"
        "    window[cb] = resolve;\n    const s = document.createElement('script');\n"
        "    s.src = url;\n    document.head.appendChild(s);\n  });\n}\n"
    )
    assert (c.line, c.callback) == (5, "jp_{…}")


def test_globals_that_are_data_do_not_pair() -> None:
    assert found(
        'function boot() {\n  window.APP_CONFIG = {api: "/api"};\n  window.VERSION = "1.2";\n'
        '  var s = document.createElement("script"); s.src = "/static/app.js";\n}\n'
    ) == []


def test_wrapper_callback_from_a_parameter_or_fixed() -> None:
    result = found(
        "function jsonp(url, cb) {\n  const s = document.createElement('script');\n"
        "  s.src = `${url}?callback=${cb}`;\n}\n"
        "jsonp('https://api.x.example/a', 'show');\n"
        "var w = window; w.load = function (url) { w.fixedCb = function (r) {};\n"
        "  var t = document.createElement('script'); t.src = url + '&callback=fixedCb'; };\n"
        "load('/api/b?x=1');\n"
    )
    got = [(c.line, c.url, c.callback_param, c.callback) for c in result]
    assert got == [
        (2, "{url}?callback={cb}", "callback", "{cb}"),
        (5, "https://api.x.example/a", "callback", "show"),
        (7, "{url}&callback=fixedCb", "callback", "fixedCb"),
        (8, "/api/b?x=1", "callback", "fixedCb"),
    ]


def test_jsonp_options_handed_to_other_functions() -> None:
    result = found(
        '$.ajaxSetup({dataType: "jsonp", jsonp: "cb"});\n'
        'news.fetch({dataType: "jsonp", data: {n: 3}});\n'
        'var base = {url: "/api/a", dataType: "jsonp"};\n'
        '$.ajax(base);\n'
        '$.ajax($.extend({}, defaults, {dataType: "jsonp"}));\n'
        'var plain = {dataType: "json"};\n'
    )
    got = [(c.line, c.kind, c.callback_param, (c.detail or "")[:30]) for c in result]
    assert got == [
        (1, "jquery-ajax", "cb", "$.ajaxSetup: every jQuery requ"),
        (2, "jquery-ajax", "callback", "dataType jsonp in options pass"),
        (4, "jquery-ajax", "callback", ""),
        (5, "jquery-ajax", "callback", "dataType jsonp in options pass"),
    ]


TS_SERVICE = """import { Injectable } from "@angular/core";
import { HttpClient } from "@angular/common/http";

@Injectable({ providedIn: "root" })
export class WeatherService {
  private readonly base: string = "https://api.example.com";
  constructor(private http: HttpClient) {}

  forecast(city: string): Observable<Forecast> {
    return this.http.jsonp<Forecast>(`${this.base}/api/weather/${city}`, "callback");
  }

  legacy(url: string, name: string): void {
    (window as any)[name] = (data: unknown) => console.log(data);
    const s = document.createElement("script") as HTMLScriptElement;
    s.src = url;
    document.head.appendChild(s);
  }
}
"""


def test_typescript_service() -> None:
    result = analyze_js_file("src/app/weather.service.ts", TS_SERVICE.encode(), CONFIG).consumers
    got = [(c.line, c.kind, c.url, c.callback_param, c.callback) for c in result]
    assert got == [
        (10, "angular-jsonp", "{this.base}/api/weather/{city}", "callback", None),
        (15, "dynamic-script", "{url}", None, "name"),
    ]
    assert analyze_js_file("types.d.ts", TS_SERVICE.encode(), CONFIG).consumers == []


def test_tsx_and_vue_typescript_blocks() -> None:
    tsx = 'export const W = () => { fetchJsonp<Data>("/api/w" as string); return <div>{"x"}</div>; };'
    assert [c.kind for c in analyze_js_file("W.tsx", tsx.encode(), CONFIG).consumers] == ["other"]
    from jsonp2cors.scan.markup import analyze_markup_file

    vue = b'<script setup lang="ts">\nconst url: string = "/api/w?callback=?";\n$.getJSON(url!);\n</script>'
    got = [(c.line, c.url) for c in analyze_markup_file("W.vue", vue, CONFIG).consumers]
    assert got == [(3, "/api/w?callback=?")]


def test_custom_services_named_like_http_are_wrappers_not_angular() -> None:
    result = found(
        "app.service('HttpService', function ($window) {\n"
        "  this.jsonp = function (url, fn) {\n    var cb = 'j' + n; $window[cb] = fn;\n"
        "    var el = $window.document.createElement('script'); el.src = url; };\n});\n"
        "HttpService.jsonp('/api/top250', show);\n"
    )
    assert [(c.line, c.kind) for c in result] == [(4, "dynamic-script"), (6, "dynamic-script")]


def test_reassigned_parameters_and_conditional_queries() -> None:
    result = found(
        "function get(url, params, fn) {\n  var qs = '';\n"
        "  for (var k in params) { qs += k + '=' + params[k] + '&'; }\n"
        "  var name = 'cb' + n; window[name] = fn;\n  qs += 'callback=' + name;\n  url = url + '?' + qs;\n"
        "  var el = document.createElement('script');\n"
        "  el.src = url.endsWith('?') ? url + name : url + '&jsonp=' + name;\n}\n"
    )
    assert [(c.line, c.url, c.callback_param) for c in result] == [
        (7, "{url}?{k}={params[k]}&callback=cb{n}&jsonp=cb{n}", "callback")]
