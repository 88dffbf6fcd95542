"""Azure Storage: one client factory (``clients``), optimistic concurrency (``optimistic``), the
stores of correspondences, their listing index and attachments, attachment blocks and the
resumable MD5. Stores read and write; they decide nothing (``shared.rules`` decides)."""
