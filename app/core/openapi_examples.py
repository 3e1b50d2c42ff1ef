"""Examples in the OpenAPI document: every request body and success response has one.

Hand-written examples (``json_schema_extra={"example": ...}``) leave out fields that are
``null``; a response always carries them, so they are filled in as ``null``. A body or response
without any example gets one composed from its schema: the examples of its parts, their
defaults, the first enumerated value, or a value of the declared type and format.
"""

from typing import Any

_MAX_DEPTH = 8
_BY_FORMAT = {
    "date-time": "2026-11-26T10:15:00Z",
    "date": "2026-11-26",
    "uuid": "5f0c6a3e-1c55-4a5f-9a8f-2a6f6f0b1a2c",
}
_BY_TYPE: dict[str, Any] = {"string": "text", "integer": 1, "number": 1.0, "boolean": True}


def complete_examples(document: dict[str, Any]) -> None:
    """Fills in missing example bodies, and the ``null`` fields hand-written examples omit."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        if isinstance(schema.get("example"), dict):
            _fill_nulls(schema["example"], schema, schemas, 0)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            bodies = [operation.get("requestBody", {})] + [
                response
                for status, response in operation.get("responses", {}).items()
                if status.startswith("2")
            ]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if _has_example(media, schemas):
                        continue
                    media["example"] = _compose(media.get("schema", {}), schemas, 0)


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _has_example(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    schema = _resolve(media.get("schema", {}), schemas)
    return any(key in place for place in (media, schema) for key in ("example", "examples"))


def _nullable(schema: dict[str, Any]) -> bool:
    return {"type": "null"} in schema.get("anyOf", []) or schema.get("type") == "null"


def _fill_nulls(example: Any, schema: dict[str, Any], schemas: dict[str, Any], depth: int) -> None:
    schema = _resolve(schema, schemas)
    if depth > _MAX_DEPTH:
        return
    if isinstance(example, list):
        for item in example:
            _fill_nulls(item, schema.get("items", {}), schemas, depth + 1)
        return
    if not isinstance(example, dict):
        return
    for choice in schema.get("anyOf", []):
        if choice != {"type": "null"}:
            _fill_nulls(example, choice, schemas, depth + 1)
    properties: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in example and _nullable(properties.get(name, {})):
            example[name] = None
    for name, value in example.items():
        if name in properties:
            _fill_nulls(value, properties[name], schemas, depth + 1)


def _compose(schema: dict[str, Any], schemas: dict[str, Any], depth: int) -> Any:
    schema = _resolve(schema, schemas)
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    if depth > _MAX_DEPTH:
        return None
    choices = [choice for choice in schema.get("anyOf", []) if choice != {"type": "null"}]
    if choices:
        return _compose(choices[0], schemas, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: _compose(part, schemas, depth + 1)
            for name, part in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [_compose(schema.get("items", {}), schemas, depth + 1)]
    if kind == "integer" and "minimum" in schema:
        return max(int(schema["minimum"]), 1 if schema.get("maximum", 1) >= 1 else 0)
    if schema.get("format") in _BY_FORMAT:
        return _BY_FORMAT[schema["format"]]
    return _BY_TYPE.get(str(kind))
