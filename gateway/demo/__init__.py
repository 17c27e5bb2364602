"""The demo: a realistic week of hotline work orders pushed through the real API."""
