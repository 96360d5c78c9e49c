"""待办 for key evaluations (evaluators, assigned agencies and experts)."""
