"""Markdown architecture reports under reports/, byte-reproducible."""
