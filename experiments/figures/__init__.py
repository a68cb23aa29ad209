"""One module per paper figure or table; each writes NAME.png and NAME.json into --out.

Every module defines NAME, PAPER (what the paper shows), `run(out, full=False, seed=0)` which
returns {"numbers": ..., "checks": {claim: bool}, "summary": str}, and `main(argv)`.
"""

FIGURES = ("parallel_lines", "optimal_critic", "vanishing_gradients", "value_surfaces",
           "gradient_norms", "mode_collapse", "mixture_modes", "loss_tracks_quality",
           "quality_over_time", "critic_overfitting", "stacked_digits", "text_jsd")
