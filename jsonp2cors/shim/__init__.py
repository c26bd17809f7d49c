"""shim (see ARCHITECTURE.md)."""
