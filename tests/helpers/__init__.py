"""Shared test helpers: real servers on 127.0.0.1 and small reports."""

CLIENT_KEY_ID = "tz-command-center"
CLIENT_SECRET = "s3cret-for-tests-0123456789"
