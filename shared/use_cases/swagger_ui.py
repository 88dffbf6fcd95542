"""``GET /swagger``: Swagger UI on the served OpenAPI document.

The static files are the Swagger UI distribution shipped by the pinned PyPI package
``swagger-ui-bundle-v2`` (requirements.txt, so the deployed app has them too; no CDN). The page
itself and its initializer are ours: the initializer points at
``/correspondence/api/v1/openapi.json`` and keeps the "Authorize" token across reloads.

Only the names in ``ASSETS`` are served (no path from the request reaches the file system), and
every answer carries a Content-Security-Policy allowing scripts from this origin only (Swagger
UI sets inline styles, hence ``style-src 'unsafe-inline'``). "Try it out" calls the host that serves the page, whatever
the document's ``servers`` say.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from swagger_ui_bundle import swagger_ui_path

# Not an API operation: tools/openapi.py leaves this folder out of the document.
IN_OPENAPI_DOCUMENT = False

DOCUMENT_URL = "/correspondence/api/v1/openapi.json"
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
HTML = "text/html; charset=utf-8"
JS = "text/javascript; charset=utf-8"
# connect-src 'self': "Try it out" calls this API; img-src data: for Swagger UI's inline icons.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

# /swagger and /swagger/ both get the page, so its URLs are absolute (a relative one would
# resolve against / from /swagger).
INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Altinn Correspondence API (sender side)</title>
  <link rel="stylesheet" href="/swagger/swagger-ui.css">
  <link rel="icon" type="image/png" href="/swagger/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/swagger-ui-bundle.js"></script>
  <script src="/swagger/swagger-ui-standalone-preset.js"></script>
  <script src="/swagger/swagger-initializer.js"></script>
</body>
</html>
""".encode("utf-8")

INITIALIZER = f"""window.onload = function () {{
  window.ui = SwaggerUIBundle({{
    url: "{DOCUMENT_URL}",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    // No badge from validator.swagger.io: nothing is loaded from elsewhere (the CSP forbids it).
    validatorUrl: null,
    // The document's server is make run's http://localhost:7071; "Try it out" calls the host
    // that serves this page instead (another port, or the deployed app).
    requestInterceptor: function (request) {{
      var target = new URL(request.url, window.location.href);
      target.protocol = window.location.protocol;
      target.host = window.location.host;
      request.url = target.toString();
      return request;
    }},
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  }});
}};
""".encode("utf-8")


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return (Path(str(swagger_ui_path)) / name).read_bytes()


def swagger_ui(path: str) -> tuple[bytes, str, dict[str, str], int]:
    """(body, content type, headers, status) for ``/swagger/<path>``."""
    name = path.strip("/")
    cached = {**HEADERS, "Cache-Control": "public, max-age=3600"}
    if name in ("", "index.html"):
        return INDEX, HTML, {**HEADERS, "Cache-Control": "no-cache"}, 200
    if name == "swagger-initializer.js":
        return INITIALIZER, JS, cached, 200
    if name in ASSETS:
        return _asset(name), ASSETS[name], cached, 200
    return b"Not found.", "text/plain; charset=utf-8", dict(HEADERS), 404
