"""Developer tools: the local Functions host, development tokens, other helpers."""
