"""Storage: the database adapter that makes compengine the system of record.

Facts are bitemporal and append-only, published plans and sealed runs are immutable, and the
payout ledger only ever grows.  The domain core knows nothing of this package.
"""
