"""policy (see ARCHITECTURE.md)."""
