"""Delivery: what the office receives by email, sent once, acknowledged, reminded.

In: a `deliver` message (a packet). Out: one email per recipient (SMTP or the
local outbox folder), recorded before and after each send; the acknowledgement
link's click; the daily digest and the one reminder (催阅).

Handlers: `send.handle_deliver_packet`, `resend.resend_packet`, `notices.send_digest`,
`notices.chase_unacknowledged`, `acknowledge.acknowledge`. `packet_email` says what a
packet contains (its view, email and spreadsheet); `mail_log` keeps the bookkeeping
that packets and notices share.
"""
