"""Pure: grid event dispatch — the responsibility list, routing with deadlines, a request's life, escalation."""
