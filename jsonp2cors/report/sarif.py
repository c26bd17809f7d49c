"""SARIF 2.1.0 log of a scan for code-scanning dashboards: a rule per finding kind, errors as notices."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonp2cors import __version__
from jsonp2cors.findings import Consumer, Endpoint, ScanError, ScanResult
from jsonp2cors.report.rules import (
    RULES,
    SCAN_ERROR,
    Rule,
    consumer_message,
    consumer_rule,
    endpoint_message,
    endpoint_rule,
    error_message,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: The uriBaseId every artifact location is relative to; `originalUriBaseIds` maps it to the scan root.
SRCROOT = "SRCROOT"
FINGERPRINT_KEY = "jsonp2cors/v1"

_RULE_INDEX = {rule.code: index for index, rule in enumerate(RULES)}


def to_sarif(result: ScanResult, *, root: str | Path | None = None) -> dict[str, Any]:
    """The SARIF 2.1.0 log (a JSON-ready dict) for `result`.

    Artifact URIs stay relative (percent-encoded, `/` separators) with `uriBaseId` SRCROOT, which
    `originalUriBaseIds` resolves to the absolute scan root (`root`, default `result.root`).
    """
    base = Path(root if root is not None else result.root).resolve()
    results = [_endpoint_result(e) for e in result.endpoints]
    results += [_consumer_result(c) for c in result.consumers]
    _disambiguate_fingerprints(results)
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "jsonp2cors",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_descriptor(rule) for rule in RULES],
                        "notifications": [_descriptor(SCAN_ERROR)],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [_notification(e) for e in result.errors],
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {"stats": _plain(result.stats)},
            }
        ],
    }


def _descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.description},
        "defaultConfiguration": {"level": rule.level},
        "properties": {"tags": list(rule.tags)},
    }


def _location(file: str, line: int | None, column: int = 1, end_line: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(file, safe="/"), "uriBaseId": SRCROOT}}
    if line is not None and line >= 1:
        region: dict[str, Any] = {"startLine": line, "startColumn": max(column, 1)}
        if end_line is not None and end_line >= line:
            region["endLine"] = end_line
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(rule: Rule, level: str, message: str, location: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "ruleId": rule.code,
        "ruleIndex": _RULE_INDEX[rule.code],
        "level": level,
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: _digest(key)},
    }


def _endpoint_result(endpoint: Endpoint) -> dict[str, Any]:
    rule = endpoint_rule(endpoint)
    level = "note" if endpoint.confidence == "low" else rule.level
    location = _location(endpoint.file, endpoint.line, endpoint.column, endpoint.end_line)
    location["logicalLocations"] = [
        {
            "name": endpoint.function.rpartition(".")[2],
            "fullyQualifiedName": endpoint.function,
            "kind": "function",
        }
    ]
    # The fingerprint names the finding, not its line, so dashboards follow it when code above it moves.
    out = _result(rule, level, endpoint_message(endpoint), location,
                  f"{rule.code}\0{endpoint.file}\0{endpoint.function}")
    out["properties"] = _plain(endpoint)
    return out


def _consumer_result(consumer: Consumer) -> dict[str, Any]:
    rule = consumer_rule(consumer)
    level = "note" if not consumer.migratable or consumer.test_code else rule.level
    key = f"{rule.code}\0{consumer.file}\0{consumer.url}\0{consumer.callback}"
    out = _result(rule, level, consumer_message(consumer),
                  _location(consumer.file, consumer.line, consumer.column), key)
    if consumer.endpoint is not None:
        related = _location(consumer.endpoint.file, consumer.endpoint.line)
        related["id"] = 1
        related["message"] = {"text": "the JSONP endpoint this consumer calls"}
        out["relatedLocations"] = [related]
    out["properties"] = _plain(consumer)
    return out


def _notification(error: ScanError) -> dict[str, Any]:
    return {
        "descriptor": {"id": SCAN_ERROR.code, "index": 0},
        "level": SCAN_ERROR.level,
        "message": {"text": f"{error.file}: {error_message(error)}"},
        "locations": [_location(error.file, error.line)],
    }


def _disambiguate_fingerprints(results: list[dict[str, Any]]) -> None:
    """Give the 2nd, 3rd, ... result with the same fingerprint its own, in file order (stable across runs)."""
    seen: Counter[str] = Counter()
    for result in results:
        fingerprints = result["partialFingerprints"]
        value = fingerprints[FINGERPRINT_KEY]
        seen[value] += 1
        if seen[value] > 1:
            fingerprints[FINGERPRINT_KEY] = _digest(f"{value}\0{seen[value]}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _plain(record: Any) -> dict[str, Any]:
    """A finding record as JSON-ready data (tuples become lists), for a SARIF property bag."""
    data: dict[str, Any] = asdict(record)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}
