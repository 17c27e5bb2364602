"""Intake: reports come in and are stored once, durably, before anything else happens.

In: a signed push (`POST /api/v1/reports`), an uploaded or imported file, a page of
the nightly pull, a file in the drop folder. Out: `reports` and `raw_records` rows
and one `normalize` message per report, committed together.

Handlers: `receive.store_batch` / `receive.store_stream` (push), `group_commit` (many
pushes, one transaction), `file_import.import_file` (uploads, `gateway import`, drop
folder), `pull_sync.sync_once` (the nightly pull). `report_files` reads the formats.
"""
