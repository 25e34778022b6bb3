"""Call center: operators, queues, routing, scripts, interactions, dispositions, callbacks."""
