"""Adapters that read and write compengine's inputs and outputs (CSV files today)."""
