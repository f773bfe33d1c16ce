"""CI fails when the committed OpenAPI document drifts from the code, or when template.yaml and
the code disagree about which routes exist."""

from infra.openapi import DOCUMENT, build, render


def test_committed_openapi_matches_the_code_and_the_template() -> None:
    document, problems = build()
    assert problems == []
    assert DOCUMENT.read_text() == render(document), "run `make openapi` and commit the result"


def test_protected_routes_declare_the_bearer_scheme() -> None:
    document, _ = build()
    assert document["paths"]["/account"]["get"]["security"] == [{"cognito": []}]
    assert "security" not in document["paths"]["/plans"]["get"]
