"""The offline main job: BP, DFA and shallow side by side on bundled digits."""

from dfazoo.demo import run_demo


def test_demo_trains_all_three_and_dfa_beats_shallow(capsys):
    results = run_demo(progress=False)
    assert set(results) == {"bp", "dfa", "shallow"}
    assert results["dfa"]["accuracy"] > results["shallow"]["accuracy"] + 10
    assert results["bp"]["accuracy"] > 90
    dfa_align = results["dfa"]["alignment"]
    assert len(dfa_align) == 3 and min(dfa_align.values()) > 0.2
    out = capsys.readouterr().out
    assert "| dfa |" in out and "align body.3" in out
