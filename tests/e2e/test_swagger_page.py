"""GET /swagger over HTTP, without a browser (tests/e2e/test_swagger_ui.py drives one): the
page, its assets with their content types, the security headers, and nothing but the known
file names."""

from __future__ import annotations

import requests


def test_swagger_assets_and_headers(local_app) -> None:
    for path in ("/swagger", "/swagger/"):
        page = requests.get(local_app.url + path, timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert "<script>" not in page.text  # no inline script: the CSP would block it
    script = requests.get(local_app.url + "/swagger/swagger-ui-bundle.js", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    css = requests.get(local_app.url + "/swagger/swagger-ui.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    for unknown in ("/swagger/../host.json", "/swagger/%2e%2e/host.json", "/swagger/index.j2", "/swagger/nope.js"):
        assert requests.get(local_app.url + unknown, timeout=10).status_code == 404, unknown


def test_the_initializer_reads_the_served_document_and_keeps_the_token(local_app) -> None:
    script = requests.get(local_app.url + "/swagger/swagger-initializer.js", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert '"/correspondence/api/v1/openapi.json"' in script.text and "persistAuthorization: true" in script.text
