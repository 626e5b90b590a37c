"""The lens's colour scale: every quantity onto [-1, 1], then blue through white to red."""

from __future__ import annotations

import numpy as np

from shakespeare_tui.core.inspection import lens


def test_quantities_are_put_on_minus_one_to_one():
    np.testing.assert_allclose(lens.to_scale("f", [0.0, 0.5, 1.0]), [-1, 0, 1])
    np.testing.assert_allclose(lens.to_scale("tanh_c", [-0.3, 0.7]), [-0.3, 0.7], rtol=1e-6)
    np.testing.assert_allclose(lens.to_scale("c", [-4.0, 2.0]), [-1.0, 0.5])
    assert lens.to_scale("c", np.zeros(3)).tolist() == [0, 0, 0]
    assert lens.quantise(np.array([-1.0, -0.06, 0.07, 1.0])).tolist() == [-8, 0, 1, 8]


def test_colours_run_from_blue_through_white_to_red():
    assert lens.colour(-1) == lens.NEGATIVE and lens.colour(1) == lens.POSITIVE
    assert lens.colour(0) == lens.MIDDLE and lens.colour(5) == lens.POSITIVE
    r, g, b = lens.colour(-0.5)
    assert b > r and b > g
    assert lens.ink(0.0) == (0, 0, 0) and lens.ink(-0.9) == (255, 255, 255)
