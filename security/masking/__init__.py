"""Masking as data (issue #13 item 5): rules (`models.MaskingRule`), the SQL builder and its
Python twin (`core`), detectors that suggest rules (`detectors`), the security admin's pages.

What the rest of the portal calls is re-exported here: `mask_value`, `mask_row`,
`mask_expression`, `masked_select`, `Mask`. This module imports no model, so it can be
imported before the apps are ready."""

from .core import (  # noqa: F401
    DEFAULT_MASK,
    DISTRICT,
    HMAC,
    KEEP_ENDS,
    METHODS,
    MIDDLE,
    MONTH,
    REPLACE,
    ROUND,
    WUHAN_DISTRICTS,
    YEAR,
    KeyedHasher,
    Mask,
    StoredHash,
    as_mask,
    hmac_key,
    key_fingerprint,
    keyed_hash_sql,
    mask_expression,
    mask_row,
    mask_value,
    masked_select,
    pg_text,
    stored_hash_column,
)
