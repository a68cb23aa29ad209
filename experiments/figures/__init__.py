"""One module per paper figure or table; each writes NAME.png and NAME.json into --out.

Every module defines NAME, PAPER (the paper's claim, quoted with section and figure) and
FIGURE, a `runner.Figure` value: its named scales (configs), `measure(config, seed) ->
numbers`, `judge(numbers) -> {claim: bool | "underpowered"}`, `plot(numbers)` and
`summary(numbers)`; optionally NOTE (what RESULTS.md says about its runs) and PUBLISHED (the
paper's own number, for RESULTS.md's summary table). `runner.run(FIGURE, out, scale=, seed=)`
measures and saves it, `runner.rebuild(FIGURE, out)` re-judges and re-plots stored numbers; each
runs as `python -m experiments.figures.NAME`. Training goes through `experiments.loop`.
"""

FIGURES = ("parallel_lines", "optimal_critic", "vanishing_gradients", "value_surfaces",
           "gradient_norms", "mode_collapse", "mixture_modes", "loss_tracks_quality",
           "quality_over_time", "gp_loss_curve", "critic_overfitting", "stacked_digits", "text_jsd",
           "ab_theorems", "mode_seeking", "vanishing_bound", "noise_bound",
           "gp_optimal_transport", "momentum_critic", "original_gan_1d",
           "original_gan_parzen", "text_english", "arch_robustness", "mixgan_scores",
           "random_archs", "gp_architectures", "gans_equal", "finite_support")
