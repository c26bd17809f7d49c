"""rewrite (see ARCHITECTURE.md)."""
