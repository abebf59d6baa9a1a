"""matplotlib charts, imported lazily; every chart byte-reproducible."""
