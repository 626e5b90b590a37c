"""`generate` refuses a prompt before it says anything else: no seed line for a text it will
never write."""

from __future__ import annotations

import pytest

from shakespeare_tui import cli


@pytest.mark.parametrize("prompt", ["(", "ROMEO:\x1b", "a\udcff", "x" * 10_001])
@pytest.mark.parametrize("seed", [["--seed", "1"], []])
def test_a_refused_prompt_is_refused_before_any_seed_is_told(capsys, tmp_path, prompt, seed):
    argv = ["--data-dir", str(tmp_path), "generate", "--checkpoint", "bundled",
            "--prompt", prompt, "--length", "20", *seed]  # fmt: skip
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("shakespeare-tui: --prompt ") and err.count("\n") == 1, err
    assert "seed" not in err
