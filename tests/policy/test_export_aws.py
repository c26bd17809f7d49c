"""S3 bucket CORS and API Gateway exports checked against their documented shapes and limits.

The schemas below are written from the AWS documentation (S3 PutBucketCors / CORSRule, API Gateway v2
`Cors`, REST API OpenAPI extensions); no AWS account is involved.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from jsonp2cors.policy import Policy
from jsonp2cors.policy.export import export
from tests.policy import cors_questions as cq

ONE_STAR_AT_MOST = r"^[^*]*\*?[^*]*$"

# put-bucket-cors --cors-configuration: 1..100 rules; each origin/header has at most one '*'.
S3_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["CORSRules"],
    "properties": {"CORSRules": {
        "type": "array", "minItems": 1, "maxItems": 100,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["AllowedMethods", "AllowedOrigins"],
            "properties": {
                "ID": {"type": "string", "minLength": 1, "maxLength": 255},
                "AllowedOrigins": {"type": "array", "minItems": 1,
                                   "items": {"type": "string", "minLength": 1, "pattern": ONE_STAR_AT_MOST}},
                "AllowedMethods": {"type": "array", "minItems": 1, "uniqueItems": True,
                                   "items": {"enum": ["GET", "PUT", "POST", "DELETE", "HEAD"]}},
                "AllowedHeaders": {"type": "array", "items": {"type": "string", "pattern": ONE_STAR_AT_MOST}},
                "ExposeHeaders": {"type": "array", "items": {"type": "string", "pattern": r"^[!-~]+$"}},
                "MaxAgeSeconds": {"type": "integer", "minimum": 0},
            },
        },
    }},
}

# The HTTP API CorsConfiguration (apigatewayv2 update-api --cors-configuration).
APIGW_HTTP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "AllowCredentials": {"type": "boolean"},
        "AllowHeaders": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "AllowMethods": {"type": "array", "items": {"type": "string", "pattern": r"^(\*|[A-Z]+)$"}},
        # exact origins, '*', or the scheme wildcards 'https://*' / 'http://*'; nothing else takes a '*'
        "AllowOrigins": {"type": "array", "items": {
            "type": "string", "pattern": r"^(\*|https?://\*|[a-z][a-z0-9+.\-]*://[^*/?#@\s]+)$"}},
        "ExposeHeaders": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "MaxAge": {"type": "integer", "minimum": 0, "maximum": 86400},
    },
    # credentials cannot be combined with a wildcard origin
    "if": {"properties": {"AllowCredentials": {"const": True}}, "required": ["AllowCredentials"]},
    "then": {"properties": {"AllowOrigins": {"not": {"contains": {"const": "*"}}}}},
}

REST_OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["responses", "x-amazon-apigateway-integration"],
    "properties": {
        "responses": {"type": "object", "minProperties": 1,
                      "propertyNames": {"pattern": r"^[1-5][0-9][0-9]$"}},
        "x-amazon-apigateway-integration": {
            "type": "object",
            "required": ["type", "requestTemplates", "responses"],
            "properties": {
                "type": {"const": "mock"},
                "passthroughBehavior": {"enum": ["when_no_match", "when_no_templates", "never"]},
                "requestTemplates": {"type": "object", "required": ["application/json"],
                                     "additionalProperties": {"type": "string", "pattern": "statusCode"}},
                "responses": {"type": "object", "required": ["default"], "additionalProperties": {
                    "type": "object", "required": ["statusCode"],
                    "properties": {
                        "statusCode": {"type": "string", "pattern": r"^[1-5][0-9][0-9]$"},
                        "responseParameters": {
                            "type": "object",
                            "propertyNames": {"pattern": r"^method\.response\.header\.[A-Za-z0-9\-]+$"},
                            "additionalProperties": {"type": "string", "pattern": r"^'[^']*'$"},
                        },
                        "responseTemplates": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }},
            },
        },
    },
}

OPENAPI_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.0\.\d+$"},
        "info": {"type": "object", "required": ["title", "version"]},
        "paths": {"type": "object", "propertyNames": {"pattern": r"^/([A-Za-z0-9._~\-]+/?|\{proxy\+\})*$"},
                  "additionalProperties": {"type": "object", "required": ["options"],
                                           "properties": {"options": REST_OPTIONS_SCHEMA}}},
    },
}


def _load(target: str, source: str, **kwargs: Any) -> tuple[Any, Any]:
    result = export(Policy.from_toml(source), target, **kwargs)
    return result, json.loads(result.text)


def test_s3_export_has_the_documented_shape() -> None:
    result, data = _load("s3", cq.FLAT_POLICY)
    jsonschema.validate(data, S3_SCHEMA)
    assert len(result.text.encode()) <= 64 * 1024  # S3's limit on a CORS configuration
    rule = data["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["https://news.example.com", "http://localhost:3000",
                                      "https://*.partner.example", "https://*.ports.example:8443"]
    assert rule["AllowedMethods"] == ["GET", "HEAD", "PUT", "DELETE"]
    assert rule["MaxAgeSeconds"] == 600 and rule["ExposeHeaders"] == ["X-Total"]
    assert result.losses == ()  # credentials on, one configuration, S3 methods only


def test_s3_wildcard_is_the_s3_reading_of_our_pattern() -> None:
    """S3's single '*' matches any characters; for a browser-sent origin that is our 'one or more labels'."""
    _, data = _load("s3", cq.FLAT_POLICY)
    allowed = data["CORSRules"][0]["AllowedOrigins"]
    policy = Policy.from_toml(cq.FLAT_POLICY)
    matcher = policy.for_path("/").matcher

    def s3_matches(origin: str) -> bool:
        return any(re.fullmatch(re.escape(a).replace(r"\*", ".*"), origin) for a in allowed)

    for origin, _why in cq.ORIGINS:
        assert s3_matches(origin) == matcher.matches(origin), origin


def test_s3_losses_are_named() -> None:
    result, data = _load("s3", """
[cors]
allow_origins = ["https://a.example"]
allow_methods = ["GET", "PATCH"]
allow_null = true
allow_private_network = true
[[route]]
path = "/x"
allow_credentials = true
""")
    entries = {loss.entry for loss in result.losses}
    assert {"cors.allow_methods", "cors.allow_null", "cors.allow_private_network",
            "cors.allow_credentials", "route[0] (path '/x').allow_credentials"} <= entries
    assert any("'PATCH'" in loss.message for loss in result.losses)
    jsonschema.validate(data, S3_SCHEMA)
    assert data["CORSRules"][0]["AllowedMethods"] == ["GET"]


def test_apigateway_http_export_has_the_documented_shape() -> None:
    result, data = _load("apigateway", cq.FLAT_POLICY)
    jsonschema.validate(data, APIGW_HTTP_SCHEMA)
    assert data["AllowOrigins"] == ["https://news.example.com", "http://localhost:3000"]
    assert data["AllowCredentials"] is True and data["MaxAge"] == 600
    # wildcard subdomains are what an HTTP API cannot take: reported by name
    assert [loss.entry for loss in result.losses] == ["cors.allow_origins (https://*.partner.example)",
                                                      "cors.allow_origins (https://*.ports.example:8443)"]


def test_apigateway_http_max_age_and_routes() -> None:
    result, data = _load("apigateway", """
[cors]
allow_origins = ["*"]
max_age = 90000
[[route]]
path = "/account"
allow_origins = ["https://a.example"]
allow_credentials = true
""")
    jsonschema.validate(data, APIGW_HTTP_SCHEMA)
    assert data["MaxAge"] == 86400 and data["AllowOrigins"] == ["*"]
    entries = [loss.entry for loss in result.losses]
    assert "cors.max_age" in entries
    assert "route[0] (path '/account').allow_credentials" in entries


def test_schema_catches_a_wildcard_with_credentials() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"AllowOrigins": ["*"], "AllowCredentials": True}, APIGW_HTTP_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"AllowOrigins": ["https://*.example.com"]}, APIGW_HTTP_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"CORSRules": [{"AllowedOrigins": ["https://*.*.example.com"],
                                            "AllowedMethods": ["GET"]}]}, S3_SCHEMA)


def test_apigateway_rest_openapi_with_mock_preflights() -> None:
    policy = Policy.from_toml(cq.ROUTED_POLICY)
    result, doc = _load("apigateway", cq.ROUTED_POLICY, rest=True)
    assert result.losses == ()
    jsonschema.validate(doc, OPENAPI_SCHEMA)
    assert set(doc["paths"]) == {"/", "/{proxy+}", "/api/account", "/api/account/{proxy+}", "/api/open",
                                 "/api/open/{proxy+}"}
    for path, item in doc["paths"].items():
        op = item["options"]
        response = op["x-amazon-apigateway-integration"]["responses"]["default"]
        declared = op["responses"][response["statusCode"]]["headers"]
        for key in response["responseParameters"]:  # every mapped header is declared on the method
            assert key.removeprefix("method.response.header.") in declared
        template = response["responseTemplates"]["application/json"]
        eff = policy.for_path(path.replace("{proxy+}", "x"))
        assert ("Access-Control-Allow-Credentials" in template) == eff.cors.allow_credentials
        # the origin test in the template answers like our matcher
        exact = re.findall(r'\$origin == "([^"]+)"', template)
        regexes = re.findall(r'\$origin\.matches\("([^"]+)"\)', template)
        any_origin = '$origin != ""' in template
        null_refused = '$origin != "null"' in template
        for origin, _why in cq.ORIGINS:
            got = ((any_origin and not (null_refused and origin == "null")) or origin in exact
                   or any(re.fullmatch(r, origin) for r in regexes))
            assert got == eff.matcher.matches(origin), (path, origin)
