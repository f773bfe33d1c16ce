"""Reading template.yaml the way CloudFormation and SAM would, for the local stack: short tags,
parameters (defaults, overrides), conditions, intrinsic functions over the physical ids of what
the local stack created, SAM Globals merged into each function, and each function's HTTP
routes, SQS sources and schedules."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"  # moto's default account

# Parameters a deployer must give (the template has no default, so a deploy cannot silently use a
# placeholder); what the local tools use when they are not overridden. Never used by a deploy.
LOCAL_REQUIRED_PARAMETERS = {
    "MailFrom": "renewals@renewal.local",
    "CarrierApiUrl": "http://127.0.0.1:9",  # make run and the tests override it with the simulator's URL
    "AlarmEmail": "alarms@renewal.local",
}


# ---------------------------------------------------------------------------- loading
class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name: str) -> Any:
    full = "Ref" if name == "Ref" else ("Condition" if name == "Condition" else f"Fn::{name}")

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {full: value}

    return construct


for _name in (
    "Ref", "Sub", "GetAtt", "Join", "If", "Equals", "Not", "And", "Or", "Select", "Split",
    "FindInMap", "ImportValue", "Condition", "Base64", "Cidr", "GetAZs",
):  # fmt: skip
    _CfnLoader.add_constructor(f"!{_name}", _tag(_name))


def load_template(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506  (SafeLoader subclass)
    document["__path__"] = str(path.resolve())
    return document


# ---------------------------------------------------------------------------- model
class TemplateError(Exception):
    """The template uses something the local stack cannot reproduce; names where."""


@dataclass(frozen=True)
class JwtAuth:
    issuer: str
    audience: list[str]
    identity_source: str


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    auth: JwtAuth | None


@dataclass(frozen=True)
class SqsSourceSpec:
    queue_logical_id: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ScheduleSpec:
    name: str  # the local scheduler's key: <function logical id>-<event name>, whatever the stack
    expression: str
    timezone: str
    input: str | None
    enabled: bool
    physical_name: str = ""  # the template's Name (it carries the stack's name), as created in moto


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    layer_dirs: list[Path]
    environment: dict[str, str]
    http_routes: list[HttpRoute] = field(default_factory=list)
    sqs_sources: list[SqsSourceSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)


@dataclass(frozen=True)
class Throttle:
    """An HTTP API route's throttling: steady requests per second and burst (API Gateway's)."""

    rate: float
    burst: int


@dataclass(frozen=True)
class Throttling:
    """The HttpApi's DefaultRouteSettings and RouteSettings (by route key, e.g. `GET /plans`)."""

    default: Throttle | None
    routes: dict[str, Throttle]

    def for_route(self, route_key: str) -> Throttle | None:
        return self.routes.get(route_key, self.default)


@dataclass
class Physical:
    """What a created resource answers to Ref and GetAtt."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class LocalStack:
    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        region: str,
        overrides: dict[str, str],
        *,
        lenient: bool = False,
    ) -> None:
        """`lenient`: refer to resources not created yet by placeholder names (for tools that only
        read the template, such as the OpenAPI generator)."""
        self.lenient = lenient
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.base_dir = Path(template.get("__path__", ".")).parent
        self.resources: dict[str, dict[str, Any]] = template.get("Resources", {})
        self.physical: dict[str, Physical] = {}
        self.parameters = self._parameters(overrides)
        self.conditions = {
            name: bool(self.resolve(expr, f"Conditions.{name}"))
            for name, expr in template.get("Conditions", {}).items()
        }

    # -------------------------------------------------------------- parameters
    def _parameters(self, overrides: dict[str, str]) -> dict[str, Any]:
        declared = self.template.get("Parameters", {})
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"overrides for parameters the template does not declare: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in overrides:
                values[name] = overrides[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
            elif name in LOCAL_REQUIRED_PARAMETERS:
                values[name] = LOCAL_REQUIRED_PARAMETERS[name]
            else:
                raise TemplateError(f"parameter {name} has no default and no local override")
            allowed = spec.get("AllowedValues")
            if allowed and str(values[name]) not in {str(a) for a in allowed}:
                raise TemplateError(f"parameter {name}={values[name]} is not one of {allowed}")
            if spec.get("Type") == "Number":
                values[name] = str(values[name])
        return values

    def pseudo(self, name: str) -> str:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    # -------------------------------------------------------------- intrinsics
    def resolve(self, value: Any, where: str = "") -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(v, where) for v in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument, where)
            if key == "Condition":
                return self.conditions[argument]
            if key.startswith("Fn::"):
                return self._function(key[4:], argument, where)
        resolved = {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _ref(self, name: str, where: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name].ref
        if self.lenient and name in self.resources:
            return self.physical_name(name)
        raise TemplateError(f"{where}: Ref to {name}, which is not created (yet) locally")

    def _get_att(self, resource: str, attribute: str, where: str) -> str:
        physical = self.physical.get(resource)
        if physical is None and self.lenient and resource in self.resources:
            return f"{self.physical_name(resource)}.{attribute}"
        if physical is None or attribute not in physical.attributes:
            raise TemplateError(f"{where}: GetAtt {resource}.{attribute} is not available locally")
        return physical.attributes[attribute]

    def _function(self, name: str, argument: Any, where: str) -> Any:
        if name == "GetAtt":
            resource, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return self._get_att(resource, self.resolve(attribute, where), where)
        if name == "Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
            variables = {k: self.resolve(v, where) for k, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                token = match.group(1)
                if token.startswith("!"):
                    return "${" + token[1:] + "}"
                if token in variables:
                    return str(variables[token])
                if "." in token and not token.startswith("AWS::"):
                    resource, attribute = token.split(".", 1)
                    return self._get_att(resource, attribute, where)
                return str(self._ref(token, where))

            return re.sub(r"\$\{([^}]+)\}", substitute, text)
        if name == "Join":
            separator, items = argument
            return str(separator).join(str(i) for i in self.resolve(items, where))
        if name == "Select":
            index, items = argument
            return self.resolve(items, where)[int(self.resolve(index, where))]
        if name == "Split":
            separator, text = argument
            return str(self.resolve(text, where)).split(separator)
        if name == "If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.conditions[condition] else when_false, where)
        if name == "Equals":
            left, right = (self.resolve(a, where) for a in argument)
            return str(left) == str(right)
        if name == "Not":
            return not self.resolve(argument[0], where)
        if name == "And":
            return all(self.resolve(a, where) for a in argument)
        if name == "Or":
            return any(self.resolve(a, where) for a in argument)
        if name == "FindInMap":
            table, first, second = (self.resolve(a, where) for a in argument)
            return self.template["Mappings"][table][first][second]
        if name == "ToJsonString":
            return json.dumps(self.resolve(argument, where))
        raise TemplateError(f"{where}: Fn::{name} is not supported by the local stack")

    # -------------------------------------------------------------- resources
    def is_enabled(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.conditions[condition]

    def dependencies(self, logical_id: str) -> set[str]:
        """Resources this one refers to (Ref, GetAtt, ${X} in Sub, DependsOn)."""
        found: set[str] = set()
        resource = self.resources[logical_id]
        depends = resource.get("DependsOn", [])
        found.update([depends] if isinstance(depends, str) else depends)

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for key, argument in value.items():
                    if key == "Ref" and isinstance(argument, str):
                        found.add(argument)
                    elif key == "Fn::GetAtt":
                        found.add(argument[0] if isinstance(argument, list) else str(argument).split(".")[0])
                    elif key == "Fn::Sub":
                        text = argument if isinstance(argument, str) else argument[0]
                        found.update(t.split(".")[0] for t in re.findall(r"\$\{([^}!]+)\}", text))
                    walk(argument)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(resource.get("Properties", {}))
        return {d for d in found if d in self.resources and d != logical_id}

    def creation_order(self) -> list[str]:
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(logical_id: str) -> None:
            if logical_id in ordered:
                return
            if logical_id in visiting:
                raise TemplateError(f"circular reference through {logical_id}")
            visiting.add(logical_id)
            for dependency in sorted(self.dependencies(logical_id)):
                visit(dependency)
            visiting.discard(logical_id)
            ordered.append(logical_id)

        for logical_id in self.resources:
            if self.is_enabled(logical_id):
                visit(logical_id)
        return ordered

    def properties(self, logical_id: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolve(
            copy.deepcopy(self.resources[logical_id].get("Properties", {})), logical_id
        )
        return resolved

    def physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    # -------------------------------------------------------------- functions
    def _function_properties(self, logical_id: str) -> dict[str, Any]:
        merged = copy.deepcopy(self.template.get("Globals", {}).get("Function", {}))
        own = self.resources[logical_id].get("Properties", {})
        for key, value in own.items():
            if key == "Environment" and "Environment" in merged:
                variables = dict(merged["Environment"].get("Variables", {}))
                variables.update(value.get("Variables", {}))
                merged["Environment"] = {"Variables": variables}
            elif key == "Layers" and "Layers" in merged:
                merged["Layers"] = merged["Layers"] + value  # SAM puts global layers first
            elif isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return merged

    def throttling(self, api_id: str = "HttpApi") -> Throttling:
        """The HttpApi's route throttling, resolved with this stack's parameters."""
        properties = self.resolve(copy.deepcopy(self.resources[api_id].get("Properties", {})), api_id)

        def throttle(settings: dict[str, Any] | None) -> Throttle | None:
            if not settings or "ThrottlingRateLimit" not in settings:
                return None
            return Throttle(float(settings["ThrottlingRateLimit"]), int(settings["ThrottlingBurstLimit"]))

        routes = {key: throttle(value) for key, value in (properties.get("RouteSettings") or {}).items()}
        return Throttling(
            throttle(properties.get("DefaultRouteSettings")),
            {key: value for key, value in routes.items() if value is not None},
        )

    def functions(self) -> list[FunctionSpec]:
        specs = []
        for logical_id, resource in self.resources.items():
            if resource.get("Type") != "AWS::Serverless::Function" or not self.is_enabled(logical_id):
                continue
            raw = self._function_properties(logical_id)
            properties = self.resolve(copy.deepcopy(raw), logical_id)
            layer_dirs = []
            for layer in raw.get("Layers", []):
                layer_id = layer.get("Ref") if isinstance(layer, dict) else None
                layer_resource = self.resources.get(str(layer_id), {})
                if layer_resource.get("Type") != "AWS::Serverless::LayerVersion":
                    raise TemplateError(f"{logical_id}: only this template's own layers run locally")
                layer_dirs.append((self.base_dir / layer_resource["Properties"]["ContentUri"]).resolve())
            spec = FunctionSpec(
                logical_id=logical_id,
                name=properties.get("FunctionName") or self.physical_name(logical_id),
                code_dir=(self.base_dir / properties["CodeUri"]).resolve(),
                handler=properties["Handler"],
                runtime=properties.get("Runtime", "python3.13"),
                timeout=int(properties.get("Timeout", 3)),
                memory=int(properties.get("MemorySize", 128)),
                layer_dirs=layer_dirs,
                environment={k: str(v) for k, v in properties.get("Environment", {}).get("Variables", {}).items()},
            )
            for event_name, event in (raw.get("Events") or {}).items():
                self._add_event(spec, f"{logical_id}.Events.{event_name}", event_name, event)
            specs.append(spec)
        return specs

    def _add_event(self, spec: FunctionSpec, where: str, name: str, event: dict[str, Any]) -> None:
        kind = event.get("Type")
        props = event.get("Properties", {})
        if kind == "HttpApi":
            api_id = (props.get("ApiId") or {}).get("Ref")
            spec.http_routes.append(
                HttpRoute(
                    str(props.get("Method", "ANY")).upper(), props["Path"], self._route_auth(api_id, props, where)
                )
            )
        elif kind == "SQS":
            queue = props["Queue"]
            queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) and "Fn::GetAtt" in queue else None
            if queue_id is None:
                raise TemplateError(f"{where}: the SQS event must name this template's queue with GetAtt")
            spec.sqs_sources.append(
                SqsSourceSpec(
                    queue_logical_id=queue_id,
                    batch_size=int(self.resolve(props.get("BatchSize", 10), where)),
                    report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                )
            )
        elif kind in ("ScheduleV2", "Schedule"):
            resolved = self.resolve(copy.deepcopy(props), where)
            spec.schedules.append(
                ScheduleSpec(
                    name=f"{spec.logical_id}-{name}",
                    physical_name=resolved.get("Name") or f"{self.stack_name}-{spec.logical_id}-{name}"[:64],
                    expression=resolved["ScheduleExpression"],
                    timezone=resolved.get("ScheduleExpressionTimezone", "UTC"),
                    input=resolved.get("Input"),
                    enabled=resolved.get("State", "ENABLED") == "ENABLED"
                    and resolved.get("Enabled", True) is not False,
                )
            )
        else:
            raise TemplateError(f"{where}: event type {kind} does not run locally")

    def _route_auth(self, api_id: str | None, props: dict[str, Any], where: str) -> JwtAuth | None:
        if not api_id:
            return None  # the implicit API has no authorizer
        auth = self.resources[api_id].get("Properties", {}).get("Auth", {})
        chosen = (props.get("Auth") or {}).get("Authorizer", auth.get("DefaultAuthorizer"))
        if chosen in (None, "NONE"):
            return None
        authorizer = auth.get("Authorizers", {}).get(chosen)
        if authorizer is None or "JwtConfiguration" not in authorizer:
            raise TemplateError(f"{where}: authorizer {chosen} is not a JWT authorizer")
        jwt = self.resolve(copy.deepcopy(authorizer["JwtConfiguration"]), where)
        return JwtAuth(
            issuer=jwt["issuer"],
            audience=list(jwt["audience"]),
            identity_source=authorizer.get("IdentitySource", "$request.header.Authorization"),
        )

    def outputs(self) -> dict[str, str]:
        found = {}
        for name, output in self.template.get("Outputs", {}).items():
            condition = output.get("Condition")
            if condition and not self.conditions[condition]:
                continue
            found[name] = str(self.resolve(copy.deepcopy(output["Value"]), f"Outputs.{name}"))
        return found


class _NoValue:
    pass


_NO_VALUE: Any = _NoValue()
