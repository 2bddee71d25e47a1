"""The history store: every ingested data folder, kept with its restatements, so that a
report can be rebuilt from the data as it was known at any time."""
