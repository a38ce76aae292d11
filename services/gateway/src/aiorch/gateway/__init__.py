"""aiorch.gateway: the HTTP and WebSocket API."""
