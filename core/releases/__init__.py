"""Releases: migrations on deploy, the release pipeline with smoke checks and rollback, deployments, changelog."""
