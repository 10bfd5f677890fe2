"""The domain core: money, periods, compiled plans, evaluation and traces.

Nothing here imports the language front end, storage, the CLI or the web layer; those are
adapters that compile into, feed, or present what this package computes.
"""
