"""Customer accounts (companies, plans, MRR) and their contacts."""
