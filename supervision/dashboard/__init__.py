"""The city dashboard (issue #17 item 7): the evaluation over time, the latest ranking, open
and overdue rectification orders, drawn as SVG on the server (no CDN, no script)."""
