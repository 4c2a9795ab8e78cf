"""Fintalk's benchmark harness: a fake OpenAI-compatible upstream, a load generator and the
scenarios that measure Fintalk's performance targets (docs/benchmarks.md). ``make bench`` runs it all."""
