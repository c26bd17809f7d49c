"""Small legacy apps served behind the shim in the browser tests (one WSGI, one ASGI)."""
