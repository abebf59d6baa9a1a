"""Input and output: rendering tables, writing files whole or not at all, reading TOML. No torch."""
