"""Outgoing mail: an outbox table written in the caller's transaction, sent by the worker over SMTP."""
