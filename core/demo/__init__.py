"""Demo data and demo traffic, deterministic from a seed."""
