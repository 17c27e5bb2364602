"""Adapters to the outside world: HTTP in and out, files, SMTP, the broker."""
