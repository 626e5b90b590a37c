"""The network (Embedding → LSTM/GRU/RNN → Linear), its checkpoints, and what it will cost."""
