"""Services outside this app: the Altinn Resource Registry (and, when configured later, the
register, KRR and Dialogporten behind ``shared.rules.external_checks``)."""
