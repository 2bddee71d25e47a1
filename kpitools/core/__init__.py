"""The domain core: vocabulary, periods, the dataset, the council configuration, the RAG rules,
the scorecard and its summaries. Imports nothing else of kpitools."""
