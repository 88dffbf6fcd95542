"""The application package. Its subpackages are the layers, and imports go one way:

``core`` (errors, statuses, stored documents, settings) <- ``models`` (request and response
models) <- ``rules`` (business rules and lifecycles); ``integrations`` (outside services) and
``storage`` (clients, stores) build on ``core``; ``auth`` on ``core`` and ``integrations``;
``use_cases`` (one module per function folder) on all of those; ``api`` (the HTTP wrapper and
body parsing) on ``auth``, ``models`` and ``core``. Function folders call ``api`` and one use
case. ``tests/unit/test_layers.py`` keeps it so.
"""
