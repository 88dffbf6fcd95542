"""Binding JSON to the request models the way upstream's System.Text.Json does.

How upstream's System.Text.Json behaviour is reproduced:

* **Property names are matched case-insensitively.** Every model derives from ``ApiModel``,
  whose ``mode="before"`` validator rewrites the keys of the incoming object to the canonical
  camelCase alias (``Correspondence`` -> ``correspondence``, ``LinkUrl`` -> ``linkURL``) and
  drops unknown keys. Nested models run the same validator, so the whole tree is covered.
  When two keys differ only in case, the **last one wins**, as with System.Text.Json.
* **Unknown properties are ignored**, including the deprecated ``sender``, ``visibleFrom``,
  ``isReservable``, ``allowSystemDeleteAfter`` and the notification's ``sendersReference``.
* **Types are strict**, as in System.Text.Json: a string is never a number or a boolean and
  vice versa; integers are 32-bit; GUIDs use the 36-character form; timestamps are ISO-8601
  strings (a missing offset means UTC) and are converted to UTC.
* **Enums** accept their member names in any case, integer strings of defined members and
  JSON integers of defined members (never booleans); anything else is a request-shape error,
  except ``notificationTemplate``, whose undefined integers become 400/3023 after the shape
  check (upstream's mapper) and whose integer 2 passes (quirk Q7, later 404/3001).
* **String lengths** count UTF-16 code units like .NET (an emoji counts 2). Strings holding
  unpaired surrogates are refused, as System.Text.Json refuses them.
* **Required strings** (``[Required]`` upstream) must be non-null and not blank; "must be
  present" fields (``fileName``, ``linkURL``, ``referenceValue``) must appear but may be null
  or blank, so that the business rules (2010, 1035, ...) decide.

Error messages never echo input values (they may be personal data).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from shared.core import errors
from shared.models.recipients import MAX_RECIPIENTS


class ApiModel(BaseModel):
    """Case-insensitive property names, unknown properties ignored, camelCase output."""

    model_config = ConfigDict(
        extra="ignore",
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        arbitrary_types_allowed=False,
        hide_input_in_errors=True,
    )

    # lower-cased alias -> alias, filled for every subclass.
    key_aliases: ClassVar[dict[str, str]] = {}
    canonical_keys: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.key_aliases = {
            (info.alias or name).lower(): (info.alias or name)
            for name, info in cls.model_fields.items()
        }
        cls.canonical_keys = frozenset(cls.key_aliases.values())

    @model_validator(mode="before")
    @classmethod
    def _canonical_keys(cls, data: Any) -> Any:
        # System.Text.Json with PropertyNameCaseInsensitive: any casing binds, and when the
        # same property appears twice the last value wins. Unknown keys are dropped here.
        if type(data) is not dict:
            return data
        if data.keys() <= cls.canonical_keys:
            return data  # already canonical: nothing to rename or drop
        aliases = cls.key_aliases
        result: dict[str, Any] = {}
        for key, value in data.items():
            if type(key) is str:
                canonical = aliases.get(key.lower())
                if canonical is not None:
                    result[canonical] = value
        return result


class ResponseModel(BaseModel):
    """Built in Python by field name; serialized with camelCase names (``correspondence_id`` ->
    ``correspondenceId``). Unknown fields are refused: what is not declared is not answered."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )


M = TypeVar("M", bound=BaseModel)

_TYPE_MESSAGES = {
    "missing": "The {field} field is required.",
    "model_type": "The value must be a JSON object.",
    "model_attributes_type": "The value must be a JSON object.",
    "dict_type": "The value must be a JSON object.",
    "list_type": "The value must be a JSON array.",
    "tuple_type": "The value must be a JSON array.",
    "string_type": "The value must be a string.",
    "bool_type": "The value must be true or false.",
    "int_type": "The value must be an integer.",
    "recursion_loop": "The value is nested too deeply.",
}


def _json_path(loc: tuple[Any, ...], root: str) -> str:
    parts = [root]
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}")
    return "".join(parts)


def _message(error: Any) -> str:
    kind = error.get("type", "")
    loc = error.get("loc", ())
    if kind == "invalid":
        return str(error.get("msg", "The value is not valid."))
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx") or {}
        field = next((p for p in reversed(loc) if isinstance(p, str)), "value")
        if kind == "too_short":
            if field == "recipients":
                return "Recipients can not be empty"
            return f"The {field} array must contain at least {ctx.get('min_length')} items."
        if field == "recipients":
            return f"Recipients can contain at most {MAX_RECIPIENTS} recipients"
        return f"The {field} array can contain at most {ctx.get('max_length')} items."
    template = _TYPE_MESSAGES.get(kind)
    if template is not None:
        field = next((p for p in reversed(loc) if isinstance(p, str)), "value")
        return template.format(field=field)
    return "The value is not valid."


def validation_errors(exc: ValidationError, root: str = "$") -> list[errors.FieldError]:
    """Pydantic errors -> FieldErrors with JSON paths and our own messages (no input echoed)."""
    result: list[errors.FieldError] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False, include_context=True, include_input=False):
        item = (_json_path(tuple(error.get("loc", ())), root), _message(error))
        if item not in seen:
            seen.add(item)
            result.append(errors.FieldError(*item))
    return result


def validate_model(model: type[M], data: object, root: str = "$") -> M:
    """Validate ``data`` (a parsed JSON value) against ``model``; request-shape failures become
    ``errors.RequestValidationError`` listing every failing field. Reusable by other endpoints."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.RequestValidationError(validation_errors(exc, root)) from None
    except RecursionError:
        raise errors.RequestValidationError(
            [errors.FieldError(root, "The value is nested too deeply.")]
        ) from None
