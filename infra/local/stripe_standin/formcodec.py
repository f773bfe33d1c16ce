"""Stripe's form encoding, decoded into nested JSON and checked against a JSON Schema.

The stripe SDK sends ``application/x-www-form-urlencoded`` bodies (and GET query
strings) in which nesting is spelled with brackets::

    line_items[0][price_data][unit_amount]=1500&metadata[order]=o1&expand[0]=line_items

``decode_form`` turns that into ``{"line_items": [{"price_data": {"unit_amount": 1500}}],
"metadata": {"order": "o1"}, "expand": ["line_items"]}``.  Form values are all text, so
the schema decides what a value becomes: where it expects an integer, boolean or number
the text is converted (when it parses), where it expects an array a map with numeric
keys becomes a list.  ``[]`` (``expand[]=x``) appends.  Where no schema applies (an
unknown parameter) values stay text and the validator reports the unknown name.

``validate_params`` runs a JSON Schema (2020-12) validator and turns the first problem
into Stripe's error shape (``parameter_unknown``, ``parameter_missing``,
``parameter_invalid_empty``, ``parameter_invalid_integer`` ...), naming the parameter
the way Stripe does, with brackets: ``line_items[0][price_data][currency]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ._jsonschema import Draft202012Validator, ValidationError

JSON = Any
_INT_RE = re.compile(r"^-?\d+$")
_NUM_RE = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEG_RE = re.compile(r"\[([^\[\]]*)\]")


@dataclass
class ParamError(Exception):
    """A request parameter problem, rendered as Stripe's ``invalid_request_error``."""

    message: str
    param: str | None = None
    code: str | None = None

    def to_error(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": "invalid_request_error", "message": self.message}
        if self.param is not None:
            err["param"] = self.param
        if self.code is not None:
            err["code"] = self.code
            err["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        return {"error": err}


def param_name(path: Sequence[str | int]) -> str:
    """``["line_items", 0, "quantity"]`` -> ``line_items[0][quantity]`` (Stripe's spelling)."""
    if not path:
        return ""
    head, *rest = path
    return str(head) + "".join(f"[{p}]" for p in rest)


def split_key(key: str) -> list[str]:
    """``a[b][0][]`` -> ``["a", "b", "0", ""]``; malformed brackets raise ParamError."""
    m = _KEY_RE.match(key)
    if not m:
        raise ParamError(f"Invalid parameter name: {key}", param=key)
    return [m.group(1), *_SEG_RE.findall(m.group(2))]


def parse_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:  # pragma: no cover - parse_qsl is lenient
        raise ParamError(f"Could not parse form body: {exc}") from exc


def _build_tree(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nested dicts with string keys; ``[]`` segments append to lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        segs = split_key(key)
        node: Any = root
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            name = param_name(segs[: i + 1])
            if isinstance(node, list):
                # parent was created by "[]": each "[]" opens a new element
                if last:
                    node.append(value)
                    break
                child: Any = {}
                node.append(child)
                node = child
                continue
            if seg == "":
                raise ParamError(f"Invalid parameter name: {key}", param=key)
            nxt_is_append = not last and segs[i + 1] == ""
            if last:
                if seg in node and isinstance(node[seg], (dict, list)):
                    raise ParamError(f"Invalid value for {name}: expected an object", param=name)
                if seg in node and isinstance(node[seg], str):
                    # repeated scalar key: Stripe keeps the last one
                    pass
                node[seg] = value
            else:
                existing = node.get(seg)
                want: type = list if nxt_is_append else dict
                if existing is None:
                    existing = want()
                    node[seg] = existing
                elif not isinstance(existing, want):
                    if isinstance(existing, str) and existing == "" and want is dict:
                        existing = {}
                        node[seg] = existing
                    else:
                        raise ParamError(f"Invalid value for {name}", param=name)
                node = existing
    return root


class SchemaView:
    """Resolves ``$ref`` inside one root schema and answers "what is expected here"."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        seen = 0
        while schema is not None and "$ref" in schema and seen < 50:
            ref = str(schema["$ref"])
            if not ref.startswith("#/"):
                return schema
            node: Any = self.root
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
            seen += 1
        return schema

    def branches(self, schema: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
        s = self.resolve(schema)
        if s is None:
            return []
        if "anyOf" in s or "oneOf" in s:
            out: list[Mapping[str, Any]] = []
            for b in s.get("anyOf", s.get("oneOf", [])):
                out.extend(self.branches(b))
            return out
        return [s]

    @staticmethod
    def types(s: Mapping[str, Any]) -> set[str]:
        t = s.get("type")
        if isinstance(t, list):
            return {str(x) for x in t}
        if isinstance(t, str):
            return {t}
        if "properties" in s or "additionalProperties" in s:
            return {"object"}
        if "items" in s:
            return {"array"}
        if "const" in s:
            c = s["const"]
            return {"string"} if isinstance(c, str) else set()
        return set()

    def allows_empty_string(self, schema: Mapping[str, Any] | None) -> bool:
        return any(b.get("const") == "" for b in self.branches(schema))

    def pick(self, schema: Mapping[str, Any] | None, kind: str) -> Mapping[str, Any] | None:
        """The first branch that expects ``kind`` (object/array/string/integer...)."""
        for b in self.branches(schema):
            ts = self.types(b)
            if kind in ts:
                return b
        return None


def _is_index_map(d: Mapping[str, Any]) -> bool:
    return bool(d) and all(_INT_RE.match(k) and not k.startswith("-") for k in d)


def _as_list(d: Mapping[str, Any]) -> list[Any]:
    return [d[k] for k in sorted(d, key=int)]


def _shape(value: Any, schema: Mapping[str, Any] | None, view: SchemaView, path: list[str | int]) -> Any:
    """Convert text leaves / index maps to what the schema expects at ``path``."""
    if schema is None:
        # unknown position: keep text, turn index maps into lists for readability
        if isinstance(value, dict):
            if _is_index_map(value):
                return [_shape(v, None, view, [*path, i]) for i, v in enumerate(_as_list(value))]
            return {k: _shape(v, None, view, [*path, k]) for k, v in value.items()}
        if isinstance(value, list):
            return [_shape(v, None, view, [*path, i]) for i, v in enumerate(value)]
        return value

    if isinstance(value, str):
        if value == "":
            if view.allows_empty_string(schema):
                return ""
            obj = view.pick(schema, "object")
            if obj is not None and not obj.get("properties") and obj.get("additionalProperties"):
                return {}  # "metadata=" unsets every key
            raise ParamError(
                f"You passed an empty string for '{param_name(path)}'. We assume empty values are an "
                f"attempt to unset a parameter; however '{param_name(path)}' cannot be unset. You should "
                f"remove '{param_name(path)}' from your request or supply a non-empty value.",
                param=param_name(path),
                code="parameter_invalid_empty",
            )
        if view.pick(schema, "string") is not None:
            return value
        if view.pick(schema, "integer") is not None and _INT_RE.match(value):
            return int(value)
        if view.pick(schema, "number") is not None and _NUM_RE.match(value):
            return float(value)
        if view.pick(schema, "boolean") is not None and value in ("true", "false"):
            return value == "true"
        return value  # validator reports the type problem

    if isinstance(value, dict):
        arr = view.pick(schema, "array")
        if arr is not None and (_is_index_map(value) or view.pick(schema, "object") is None):
            if not _is_index_map(value):
                return value  # validator reports "Invalid array"
            items = arr.get("items")
            return [_shape(v, items, view, [*path, i]) for i, v in enumerate(_as_list(value))]
        obj = view.pick(schema, "object")
        if obj is None:
            return value
        props: Mapping[str, Any] = obj.get("properties", {})
        addl = obj.get("additionalProperties")
        out: dict[str, Any] = {}
        for k, v in value.items():
            sub: Mapping[str, Any] | None
            if k in props:
                sub = props[k]
            elif isinstance(addl, Mapping):
                sub = addl
                if v == "" and not props:
                    continue  # metadata[key]= unsets that key
            else:
                sub = None
            out[k] = _shape(v, sub, view, [*path, k])
        return out

    if isinstance(value, list):
        arr = view.pick(schema, "array")
        items = arr.get("items") if arr is not None else None
        return [_shape(v, items, view, [*path, i]) for i, v in enumerate(value)]
    return value


def decode_form(
    pairs: Iterable[tuple[str, str]],
    schema: Mapping[str, Any] | None = None,
    *,
    drop: Iterable[str] = (),
) -> dict[str, Any]:
    """Decode form pairs into nested JSON, typed by ``schema`` when given.

    ``drop`` lists top-level names removed before shaping (none by default).
    """
    tree = _build_tree(pairs)
    for name in drop:
        tree.pop(name, None)
    shaped = _shape(tree, schema, SchemaView(schema or {}), [])
    assert isinstance(shaped, dict)
    return shaped


def decode_text(text: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return decode_form(parse_pairs(text), schema)


# --------------------------------------------------------------------------- validation

_PRIORITY = {
    "additionalProperties": 0,
    "unevaluatedProperties": 0,
    "required": 1,
    "type": 2,
    "enum": 3,
    "const": 3,
}


def _describe_type(expected: Any) -> str:
    t = expected if isinstance(expected, str) else (expected[0] if expected else "value")
    return {
        "object": "object",
        "array": "array",
        "integer": "integer",
        "boolean": "boolean",
        "number": "number",
        "string": "string",
    }.get(str(t), str(t))


def _leaf_errors(err: ValidationError) -> list[ValidationError]:
    """For anyOf/oneOf failures, the sub-errors of the branch that fits the value best."""
    if err.validator in ("anyOf", "oneOf") and err.context:
        # prefer branches whose problem is deeper than a plain type mismatch at this spot
        deep = [c for c in err.context if len(c.absolute_path) > len(err.absolute_path) or c.validator != "type"]
        deep = [c for c in deep if not (c.validator == "const" and c.validator_value == "")]
        chosen = deep or [c for c in err.context if c.validator == "type"] or list(err.context)
        out: list[ValidationError] = []
        for c in chosen:
            out.extend(_leaf_errors(c))
        return out
    return [err]


def _to_param_error(err: ValidationError) -> ParamError:
    path = list(err.absolute_path)
    name = param_name(path) or None
    inst = err.instance
    if err.validator in ("additionalProperties", "unevaluatedProperties"):
        props = err.schema.get("properties", {}) if isinstance(err.schema, Mapping) else {}
        extra = sorted(k for k in (inst if isinstance(inst, dict) else {}) if k not in props)
        pname = param_name([*path, extra[0]]) if extra else (name or "")
        return ParamError(f"Received unknown parameter: {pname}", param=pname, code="parameter_unknown")
    if err.validator == "required":
        missing = [k for k in err.validator_value if not (isinstance(inst, dict) and k in inst)]
        pname = param_name([*path, missing[0]]) if missing else (name or "")
        return ParamError(f"Missing required param: {pname}.", param=pname, code="parameter_missing")
    if err.validator == "type":
        kind = _describe_type(err.validator_value)
        shown = inst if isinstance(inst, (str, int, float, bool)) else ""
        if kind == "integer":
            return ParamError(f"Invalid integer: {shown}", param=name, code="parameter_invalid_integer")
        if kind == "boolean":
            return ParamError(f"Invalid boolean: {shown}", param=name)
        if kind == "string" and isinstance(inst, (dict, list)):
            return ParamError(f"Invalid string: {name} must be a string, not a hash or array", param=name)
        return ParamError(f"Invalid {kind}", param=name)
    if err.validator == "enum":
        opts = [str(x) for x in err.validator_value]
        if len(opts) > 1:
            listed = ", ".join(opts[:-1]) + (", or " if len(opts) > 2 else " or ") + opts[-1]
        else:
            listed = opts[0] if opts else ""
        return ParamError(f"Invalid {path[-1] if path else 'value'}: must be one of {listed}", param=name)
    if err.validator in ("minimum", "exclusiveMinimum"):
        return ParamError(f"This value must be greater than or equal to {err.validator_value}.", param=name)
    if err.validator in ("maximum", "exclusiveMaximum"):
        return ParamError(f"This value must be less than or equal to {err.validator_value}.", param=name)
    if err.validator == "maxLength":
        return ParamError(f"Invalid {name}: must be at most {err.validator_value} characters", param=name)
    return ParamError(f"Invalid value for {name}: {err.message}", param=name)


def validate_params(params: Mapping[str, Any], validator: Draft202012Validator) -> None:
    """Raise ParamError (Stripe's shape) for the most relevant schema problem, if any."""
    errors = list(validator.iter_errors(params))
    if not errors:
        return
    leaves: list[ValidationError] = []
    for e in errors:
        leaves.extend(_leaf_errors(e))

    def rank(e: ValidationError) -> tuple[int, int, str]:
        return (_PRIORITY.get(str(e.validator), 9), len(e.absolute_path), param_name(list(e.absolute_path)))

    raise _to_param_error(sorted(leaves, key=rank)[0])
