"""Closing the loop with customers: macros, roadmap notices, fixes that ship."""
