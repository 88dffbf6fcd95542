"""Who is calling (bearer tokens: ``tokens``, ``entra``, ``verify``, ``jwks``) and what they may
act for (``access``)."""
