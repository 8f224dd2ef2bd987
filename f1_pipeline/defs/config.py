"""The configuration is the resources: each field that a variable may set names it (its
``env``), its default and its constraints are pydantic's, and the UI's Resources page shows
the values. :func:`from_env` fills a resource from the environment it is given; a value
pydantic refuses fails the start in one sentence naming the variable. Secret fields are set
as Dagster ``EnvVar`` references, never as values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, TypeAdapter, ValidationError

R = TypeVar("R", bound=ConfigurableResource)


class ConfigError(ValueError):
    """A variable holds a value the platform cannot use; the message names it."""


def env_field(
    default: Any, var: str, description: str, *, secret: bool = False, hint: str = "", **rules: Any
) -> Any:
    """A resource field that the environment variable ``var`` sets (``secret``: as a Dagster
    EnvVar reference, so neither the UI nor a log ever shows its value); ``hint``: what to
    say instead of pydantic's own words when a value is refused."""
    extra: dict[str, Any] = {"env": var, "secret": secret, "hint": hint}
    if secret:  # the field holds a reference: its rules apply to the variable's value
        extra["rules"], rules = rules, {}
    return Field(default, description=f"{description} ({var})", json_schema_extra=extra, **rules)


def _reason(err: ValidationError) -> str:
    first = err.errors()[0]
    return str(first["msg"]).removeprefix("Value error, ")


def checked(var: str, value: Any, annotation: Any, secret: bool = False, hint: str = "") -> Any:
    """``value`` of ``var`` validated as ``annotation``; ConfigError naming ``var``."""
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError as err:
        shown = var if secret else f"{var}={value!r}"
        raise ConfigError(f"{shown}: {hint or _reason(err)}") from None


def _extra(field: Any) -> dict[str, Any]:
    extra = getattr(field, "json_schema_extra", None)
    return extra if isinstance(extra, dict) else {}


def from_env(cls: type[R], env: Mapping[str, str], **given: Any) -> R:
    """A ``cls`` whose variable-set fields take the values ``env`` holds (blank: unset)."""
    values = dict(given)
    for name, field in cls.model_fields.items():
        extra = _extra(field)
        var, secret = extra.get("env"), bool(extra.get("secret"))
        raw = (env.get(var) or "").strip() if var else ""
        if not var or not raw or name in given:
            continue
        rules = [Field(**extra["rules"])] if extra.get("rules") else field.metadata
        annotation = Annotated[field.annotation, *rules] if rules else field.annotation
        value = checked(var, raw, annotation, secret, extra.get("hint", ""))
        values[name] = EnvVar(var) if secret else value
    try:
        return cls(**values)
    except ValidationError as err:
        # A field's own validator (or a rule between fields) refused it.
        field_name = next(iter(err.errors()[0]["loc"]), None)
        extra = _extra(cls.model_fields.get(str(field_name)))
        var = extra.get("env")
        raw = (env.get(var) or "").strip() if var else ""
        prefix = f"{var}={raw!r}: " if var and raw and not extra.get("secret") else ""
        raise ConfigError(f"{prefix}{_reason(err)}") from None
