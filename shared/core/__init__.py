"""The core: what every other layer shares and nothing here imports from them.

``errors`` (the error catalog and the exception types), ``statuses`` (the lifecycle enums,
defined once), ``documents`` (what is stored), ``settings`` (every app setting name) and
``clock`` (the one source of "now").
"""
