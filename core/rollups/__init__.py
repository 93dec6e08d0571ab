"""Pre-computed page results the worker refreshes, served only while their inputs are unchanged."""
