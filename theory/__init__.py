"""What we can promise (``pinnkit.theory``): functions of a trained model and a problem that return numbers —
risk-vs-error bounds, gradient-penalty, mean-field and depth/width diagnostics — each a small dataclass
with its formula and source in the docstring. No training code and no plotting here."""
