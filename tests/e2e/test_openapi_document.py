"""GET /correspondence/api/v1/openapi.json: the committed document, anonymously."""

from __future__ import annotations

import json

import requests

from tools.openapi import DOCUMENT_PATH


def test_document_is_served_without_a_token(local_app) -> None:
    response = requests.get(f"{local_app.url}/correspondence/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.json() == json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def test_document_refuses_other_methods(local_app) -> None:
    response = requests.post(f"{local_app.url}/correspondence/api/v1/openapi.json", timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith("application/problem+json")
