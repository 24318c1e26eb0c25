"""Celery tasks: thin wrappers that take ids and call mam services and the pipeline."""
