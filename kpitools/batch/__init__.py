"""The quarterly batch: plan a run, run every service's notebook (locally or on Dask), write
the outputs atomically, the manifest and the corporate overview."""
