"""Zoom integration: recurrence planning, request payloads and Meeting SDK signatures."""
