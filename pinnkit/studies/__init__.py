"""Studies that run many trainings and set their errors beside the theory's numbers."""
