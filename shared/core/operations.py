"""What an operation answers, declared next to its use case (``OPERATION = Operation(...)``).

``tools/openapi.py`` builds the OpenAPI document from these declarations, the response models
they name and the HTTP wrapper's own options (authentication, consumed and produced media
types, body cap), so an operation's responses and its business errors are written once, where
the code that answers them is. ``errors`` lists the catalog entries the use case can answer, in
the order its rules run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.core.errors import CatalogEntry


@dataclass(frozen=True)
class Answer:
    """One successful (or protocol-level) answer."""

    status: int
    description: str
    model: Any = None  # a pydantic model class, a JSON schema dict, or None for no body
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()  # (name, description)


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: tuple[Answer, ...]
    errors: tuple[CatalogEntry, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()
    # The JSON request body model, or (media type, JSON schema) for another body.
    request: Any = None
    request_example: Any = None
    # The model a non-JSON body is bound to (a multipart form): its shape errors are 400 STD-00000.
    bound_to: Any = None
    # A model whose fields are the query parameters (validated like a body: 400 STD-00000).
    query: Any = None
    # Request headers the operation reads: (name, description).
    headers: tuple[tuple[str, str], ...] = ()
    # Protocol problems beyond the wrapper's and the catalog's: (status, description).
    problems: tuple[tuple[int, str], ...] = ()
    # operationIds this operation's 200 links to, with their parameters (OpenAPI links).
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
