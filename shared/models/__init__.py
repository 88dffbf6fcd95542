"""Request and response models: what a client sends and gets, field for field (behaviour §3.1,
§4, §6), bound the way upstream's System.Text.Json binds (``binding``, ``fields``)."""
