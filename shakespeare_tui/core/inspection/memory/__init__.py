"""Memory: how far back a model really uses what it read (issue 19).

Three measurements, each over the same target positions of one text (by default the end of
the held-out part of the checkpoint's corpus):

- the **context curve** (context.py; Khandelwal et al. 2018): the mean loss when the model
  reads only the last k = 1, 2, 4, … 512 characters before each target, and with the whole
  text before it ("all"); its **effective context** is the smallest k within 2% of "all";
- the **n-gram baseline** (ngram.py): an interpolated modified Kneser–Ney character model,
  counted on the checkpoint's own training text, with 0 … 8 characters of context;
- **connectivity** (connectivity.py; Madsen 2019): ‖∂ log p(x_t) / ∂ e_(t−k)‖, how strongly a
  prediction depends on the character k back, at one position or averaged over targets.

`report.measure_checkpoint` measures a checkpoint (cached by its sha256) and
`report.ngram_baseline` gives the n-gram's curve for the same text; `measure.measure_model`
and `connectivity.ConnectivityProbe` work on a model directly; `defaults` holds the torch-free
defaults the command line shows. (Nothing is imported here: a module that needs torch is
imported by name, so the command line's flags load none of it.) Everything takes a
`threading.Event` to stop (raising MemoryStopped) and an `on_event` callable for
MemoryProgress events; results are plain values (floats, tuples, strings).
"""
