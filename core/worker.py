"""The worker: runs the registered jobs (core.jobs) under APScheduler; one leader among many."""
