"""One module per function folder, with the folder's name, and the few helpers they share
(``attachment_access``, ``attachment_links``)."""
