"""Email notifications: the outbox, rendering and delivery."""
