"""scan (see ARCHITECTURE.md)."""
