"""HTTP: the one wrapper every HTTP function goes through (``http``: gates, problem rendering),
and parsing of request bodies that are not JSON (``multipart``, ``form_binding``)."""
