"""SLA engine: business calendars and clocks (pure), policies, per-ticket state, the sweep and reports."""
