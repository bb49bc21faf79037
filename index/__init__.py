"""Ingestion: load documents, chunk them with exact spans, embed, and keep them in Chroma."""
