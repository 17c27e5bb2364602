"""The office's own pages (/office/): accounts and roles, the clue inbox (issue 19; docs/office.md).

`accounts` and `inbox` hold the rules as plain functions over a session; `web`,
`auth` and `views` are the aiohttp side, mounted by `connectors/http/app.py`.
"""
