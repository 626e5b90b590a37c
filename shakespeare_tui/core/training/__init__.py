"""Training a run: the engine, its evaluations, schedule and budgets, the state a checkpoint
keeps, many processes under torchrun, and samples drawn while it trains."""
