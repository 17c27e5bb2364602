"""Operations: what the gateway tells about itself and its records.

In: a scrape, a health probe, a status query. Out: Prometheus metrics (`metrics`,
`metrics_state`), readiness (`health`), log setup (`logs`), and the read side of
reports, work orders and clues (`status`).
"""
