"""Presentation: statements and explanations rendered for people."""
