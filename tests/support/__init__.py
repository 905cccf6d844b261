"""Test helpers shared by unit and integration tests (fake servers, fixture loaders)."""
