"""Python JSONP detection: `collect` reads one module into facts, `resolve` turns facts into endpoints.

Framework knowledge lives in tables (`tables.py`) and in small registered route rules (`routes.py`).
"""
