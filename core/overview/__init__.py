"""The KPI scorecard: every target the console tracks, computed in SQL by its domain."""
