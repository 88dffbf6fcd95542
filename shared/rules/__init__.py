"""Business rules, in upstream's order, and the lifecycles (state machines) of correspondences
and attachments. Pure: they take models and documents and raise catalog errors or return
decisions; no I/O."""
