"""Webhooks: subscriptions, the import events they receive once per import, signed delivery with retries."""
