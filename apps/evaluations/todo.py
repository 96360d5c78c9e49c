"""待办 for self-evaluation."""
