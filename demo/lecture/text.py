"""The words of lecture mode: the "How INT works / how to read this" panel and the kernel caption."""

from __future__ import annotations

PAPER_URL = "https://arxiv.org/abs/2405.10531"

HOW_INT_WORKS = f"""
**What you are watching.** An *implicit neural representation* is a small network f<sub>θ</sub> that maps a
coordinate x (a pixel's position, a time in a clip, a point in space) to a value (a colour, an amplitude,
inside or outside). Fitting it to one signal is training on N examples, one per coordinate.

**INT (Implicit Neural Teaching).** At every step a *teacher* looks at all N pixels with the current
network, picks the k = ⌈r·N⌉ where it is most wrong, |f<sub>θ</sub>(x) − f*(x)|, and the network (the *learner*)
takes one gradient step on those k only. Why that works: one update on a few points moves the
*whole* function, through the network's neural tangent kernel K(x₀, x) = ⟨∂f(x₀)/∂θ, ∂f(x)/∂θ⟩:
Δf(x) ≈ −η·Σ<sub>selected</sub> K(x, xᵢ)·(f(xᵢ) − f*(xᵢ))/k. Picking the largest errors makes each step
the steepest functional step for its cost: greedy example selection is functional gradient descent.

**How to read the race.** Every column starts from the same initial weights. The chart plots quality
(PSNR in dB for pictures and sound: higher is better, +3 dB is half the squared error; IoU for shapes)
against each sampler's *own training seconds*: the teacher's scoring pass counts, drawing does not.
Compare the columns at the same time on the x-axis, not at the same step: an INT step costs less than a
full-batch step.

**Step mode.** Pause, then **Step** (or →): every column takes exactly one step. The INT column then
shows the error before the step (bright: the k points it trained on), the change the step made at every
point Δf (red up, blue down), and the kernel's first-order prediction J·Δθ, with their agreement. A clip
shows them as curves over time, a shape on a cross-section of its grid (the slider moves the cut).

**The kernel view.** Click a point x₀ of a column (a pixel, a time; on a shape, a point of a
cross-section): the view shows K(x₀, ·), how much one update at x₀ moves every other point, at the
current weights and at the initial weights.

**More:** the paper, [Zhang et al., *Nonparametric Teaching of Implicit Neural Representations*,
ICML 2024]({PAPER_URL});
the project's docs/app.md (every part of the app) and docs/lecture.md (a 10-minute lecture with it).
"""

KERNEL_CAPTION = "one update at x₀ moves these points this much"

NO_UPLOAD_IN_LINKS = "An uploaded file cannot travel in a link: the link names a preset."


MAP_LEGEND = (
    "Red: moves the same way as x₀, blue: the opposite way, white: not at all; colour ∝ √|K(x₀, x) / K(x₀, x₀)|."
)


def kernel_caption(k00_now: float, k00_init: float, step: int, legend: str = MAP_LEGEND) -> str:
    """The kernel view's caption with the two rows' scales (each picture is relative to its own K(x₀, x₀))."""
    return (
        f"{KERNEL_CAPTION}. Left: initial weights (K(x₀, x₀) = {k00_init:.3g}); right: weights after "
        f"{step} steps (K(x₀, x₀) = {k00_now:.3g}). {legend}"
    )


def step_caption(cosine: float, relative_error: float, k: int, n: int, unit: str = "pixel") -> str:
    """The step view's caption: how well the kernel's linear prediction matches the actual change."""
    return (
        f"One step trained on k = {k:,} of N = {n:,} {unit}s and changed all of them. The kernel's "
        f"prediction J·Δθ matches the actual change Δf with cosine similarity {cosine:.4f} "
        f"(relative error {relative_error:.1%})."
    )
