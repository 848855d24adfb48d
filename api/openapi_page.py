"""The interface page (/api/docs): the OpenAPI document drawn as HTML tables by our own template, nothing loaded
from anywhere else and no script."""

from __future__ import annotations

import json

from fangxun.api.templating import render

METHOD_ORDER = ("get", "post", "patch", "put", "delete")
_SIMPLE_KEYS = ("format", "pattern", "minimum", "maximum", "minLength", "maxLength", "maxItems", "minItems")


def schema_name(reference: str) -> str:
    """`#/components/schemas/Plan` -> `Plan`."""
    return reference.rsplit("/", 1)[-1]


def type_text(schema: dict) -> str:
    """A schema in a few words: `Plan`, `Plan[]`, `string | null`, `integer`, `"a" | "b"`, `PlanFields + …`."""
    if "$ref" in schema:
        return schema_name(schema["$ref"])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        return " | ".join(f'"{value}"' for value in schema["enum"])
    for combiner, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " + ")):
        if combiner in schema:
            return joiner.join(type_text(part) for part in schema[combiner])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"{type_text(schema.get('items', {}))}[]"
    if isinstance(kind, list):
        return " | ".join(kind)
    return kind


def rules_text(schema: dict) -> str:
    """The constraints of a schema (format, pattern, bounds, lengths) in short."""
    parts = []
    for option in [schema, *schema.get("anyOf", [])]:
        parts += [f"{key} {option[key]}" for key in _SIMPLE_KEYS if key in option]
    if "default" in schema:
        parts.append(f"默认 {json.dumps(schema['default'], ensure_ascii=False)}")
    return "；".join(parts)


def property_rows(schema: dict) -> list[dict]:
    """One row per property of an object schema (those of allOf parts too)."""
    rows = []
    for part in [schema, *schema.get("allOf", [])]:
        required = set(part.get("required", []))
        for name, prop in part.get("properties", {}).items():
            rows.append({"name": name, "type": type_text(prop), "required": name in required,
                         "rules": rules_text(prop), "description": prop.get("description", prop.get("title", ""))})
    return rows


def _operation_view(path: str, method: str, op: dict) -> dict:
    body = op.get("requestBody", {}).get("content", {})
    return {
        "id": op["operationId"], "method": method.upper(), "path": path, "summary": op.get("summary", ""),
        "description": op.get("description", ""), "public": op.get("security") == [],
        "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                        "type": type_text(p["schema"]), "rules": rules_text(p["schema"]),
                        "description": p.get("description", "")} for p in op.get("parameters", [])],
        "body": [{"media": media, "type": type_text(content["schema"])} for media, content in body.items()],
        "body_required": op.get("requestBody", {}).get("required", False),
        "responses": [{"status": status, "description": reply["description"],
                       "types": [f"{media}: {type_text(content['schema'])}"
                                 for media, content in reply.get("content", {}).items()]}
                      for status, reply in op["responses"].items()],
    }


def docs_view(document: dict) -> dict:
    """The page's content: operations grouped by tag (in the document's order), then every schema."""
    groups = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, methods in document["paths"].items():
        for method in sorted(methods, key=METHOD_ORDER.index):
            op = methods[method]
            groups.setdefault(op["tags"][0], []).append(_operation_view(path, method, op))
    schemas = [{"name": name, "type": type_text(schema), "description": schema.get("description", ""),
                "rows": property_rows(schema)} for name, schema in document["components"]["schemas"].items()]
    return {"info": document["info"], "groups": [(tag, ops) for tag, ops in groups.items() if ops],
            "schemas": schemas}


def docs_page(document: dict) -> str:
    """The whole page."""
    view = docs_view(document)
    return render("api_docs.html", title="接口说明", user=None, **view)
