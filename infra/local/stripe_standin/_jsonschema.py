"""jsonschema, imported without type stubs (types-jsonschema is not in the project's pins)."""

from __future__ import annotations

import importlib
from typing import Any

_js: Any = importlib.import_module("jsonschema")
Draft202012Validator: Any = _js.Draft202012Validator
ValidationError: Any = importlib.import_module("jsonschema.exceptions").ValidationError
