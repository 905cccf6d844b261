"""Alembic migrations of the relay's store (applied at start and by ``prodouane-relay db upgrade``)."""
