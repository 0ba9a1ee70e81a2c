"""Paper-equivalent PDFs rendered from snapshots (the journal copy and the summary sheet)."""
