"""The pieces of the local Functions host (``python -m tools.serve``)."""
