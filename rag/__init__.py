"""Answering: retrieve evidence, generate a cited answer, verify the citations, refuse when silent."""
