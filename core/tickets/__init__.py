"""Tickets: intake, categorisation, routing, the queue and the timeline."""
