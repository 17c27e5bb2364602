"""Pipeline: from stored records to clues, one packet per committee.

In: a `normalize` message (a report's raw records). Out: masked, screened work
orders (`normalize`), their near-duplicate issues chunk by chunk (`assign`, run
after each chunk and at the start of routing), then topics and clues with one
packet per committee and a `deliver` message per packet (`route`).

Handlers: `normalize.handle_normalize_report` (then `assign.run_after_normalize`), `route.handle_route_report`. The
parts they use: `privacy` (masking), `screening`, `taxonomy` and `classifier`
(categories), `gazetteer` (places), `neardup` (issues), `topics` (matters at
places), `clues` (what the office receives), `routing_rules` (which committee).
"""
