"""Quality gates on the real data in ../shared/data (docs/quality.md)."""
