"""Call center.

Operators, queues, routing, scripts, interactions, dispositions, callbacks.
"""
