"""Notifying responders: who (contacts per department), what (payloads per channel), delivery with retries."""
