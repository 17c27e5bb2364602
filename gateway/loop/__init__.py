"""The loop: what comes back from the workstations, and what goes back to the command center.

In: Table 1s (附表1) as JSON or spreadsheets, supervision updates. Out: due dates
on the official calendar, reminders (催报), supervision items (督办), the month's
Table 2 (附表2) and the feedback document pushed to the command center.

Handlers: `table1.file_table1`, `supervision.update_item`, `supervision.chase_consultations`,
`table2.monthly_summary`, `feedback_push.push_month`. `forms_xlsx` lays out the
spreadsheets like seed 000's forms.
"""
