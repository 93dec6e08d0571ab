"""Tests for closing the loop: macros, roadmap notices, fixes that ship."""
