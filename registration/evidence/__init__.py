"""registration.evidence: evidence deposits (存证): canonical data snapshots and metadata, their digests in the ledger's public evidence log, verification."""
