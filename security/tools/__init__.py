"""Data tools (Art. 27): the register of the collection tools, devices and data software each
organization uses, as subjects of security assessments (kind "data_tool", registered in
`assessments.py`). A tool is put into use only while it holds a valid pass; the daily
assessment job suspends it when its pass runs out; a changed version revokes the pass."""
