"""Fintalk's benchmark harness: a fake OpenAI-compatible upstream, a load generator and the
scenarios that measure DESIGN.md's performance targets. ``make bench`` runs it all."""
