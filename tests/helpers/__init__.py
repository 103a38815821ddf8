"""Helpers shared by the test packages (test modules never import each other)."""
