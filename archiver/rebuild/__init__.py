"""``archiver rebuild``: the archive re-derived from WARC files (its own, or another crawler's) through the
crawl's extraction, on every core. records (reading WARC files), inventory (the first pass), media (images and
documents linked to their captures), run (the rebuild), progress (what it shows), command (the CLI entry)."""
