"""Delivery channels.

Adapters behind one protocol (email, sms, webhook, web, post, file) and channel choice.
"""
