"""What the screens read: the pure projection from wire events to the Redis keys and update streams the gateway serves."""
