"""Pure chart builders: Altair specs fed with aggregates only (one row per rep, stage or week)."""
