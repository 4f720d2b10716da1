"""Rectification orders (Art. 31): the bureau orders an agency to put a failing right within a
deadline in working days; the agency acknowledges and answers with evidence; the bureau
verifies or returns; beat flags overdue orders, reminds and escalates; the platform suggests
orders from its own signals."""
