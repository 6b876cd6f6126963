"""The control API's request body, described from `Settings` itself: every setting with its type,
range and description, each optional (a PATCH is partial). FastAPI puts it in /openapi.json."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from hookcam.settings import Settings


def settings_patch_model() -> type[BaseModel]:
    fields = {}
    for name, info in Settings.model_fields.items():
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = (Optional[kind], Field(None, description=info.description))  # noqa: UP045
    return create_model(
        "SettingsPatch", __config__=ConfigDict(extra="forbid", title="SettingsPatch"),
        __doc__="Any subset of the settings; values are checked as a whole before anything applies.",
        **fields)


SettingsPatch = settings_patch_model()


def strip_unused_422(schema: dict) -> dict:
    """FastAPI lists a 422 for every route with a body or parameters; this server answers 400."""
    for path in schema.get("paths", {}).values():
        for op in path.values():
            if isinstance(op, dict):
                op.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
