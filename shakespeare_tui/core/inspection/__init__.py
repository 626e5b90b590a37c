"""Looking inside a model: replaying it over a text, predictions, the neuron finder and lens,
LSTMVis spans, gate saturation, and forks."""
