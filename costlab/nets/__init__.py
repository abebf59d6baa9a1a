"""The networks: blocks, architecture tables and their scaling rules, the registry, user TOML specs. No torch."""
