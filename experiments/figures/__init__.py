"""One module per paper figure or table; each writes NAME.png and NAME.json into --out.

Every module defines NAME, PAPER (what the paper shows) and `run(out, full=False, seed=0,
scale=None)`, which returns {"numbers": ..., "checks": {claim: bool}, "summary": str}; each runs
as `python -m experiments.figures.NAME`. Training goes through `experiments.loop`.
"""

FIGURES = ("parallel_lines", "optimal_critic", "vanishing_gradients", "value_surfaces",
           "gradient_norms", "mode_collapse", "mixture_modes", "loss_tracks_quality",
           "quality_over_time", "critic_overfitting", "stacked_digits", "text_jsd",
           "ab_theorems", "gp_optimal_transport")
