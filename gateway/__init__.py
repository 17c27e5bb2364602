"""The hotline–CPPCC gateway: app wiring, settings, persistence, pipeline and CLI."""
