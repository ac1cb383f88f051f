"""Live progress: WebSocket connections and their subscriptions, and the broadcast of import updates."""
