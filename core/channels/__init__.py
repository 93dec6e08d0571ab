"""Channels: tickets from a support mailbox, and sync with the helpdesks a team already runs."""
