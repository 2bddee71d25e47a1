"""The report: one service's CPR for a quarter - its content, words, charts, HTML fragments,
the PowerPoint deck, the HTML export, the summary other outputs read, templates and the
notebook that runs them."""
