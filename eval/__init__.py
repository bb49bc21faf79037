"""The eval harness: gold Q&A pairs, metrics over the real pipeline, a report, and the CI gate."""
