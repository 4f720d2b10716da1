"""authorization.pilots: pilot scenarios of authorized operation (Art. 22): calls, proposals, selection, priced-but-free trials."""
