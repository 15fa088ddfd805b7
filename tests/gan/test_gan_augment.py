"""The augmentation experiment's summary: mean ± sample sd per arm, and how the arms are named."""

from medmodels.gan.augment import format_summary, summarise


def _ct_rows():
    rows = [{"arm": "real", "seed": s, "n_synthetic": 0, "auc": a} for s, a in ((11, 0.90), (12, 0.92), (13, 0.94))]
    rows += [{"arm": "synthetic", "seed": s, "n_synthetic": 2500, "auc": a} for s, a in ((11, 0.88), (12, 0.89), (13, 0.90))]
    return rows


def test_summary_is_the_mean_and_sample_sd_over_seeds():
    summary = summarise("ct", _ct_rows())
    assert summary["real"]["auc"] == {"mean": 0.92, "sd": 0.02}  # sd with ddof 1 of 0.90, 0.92, 0.94
    assert summary["synthetic"]["auc"] == {"mean": 0.89, "sd": 0.01} and summary["synthetic"]["seeds"] == [11, 12, 13]


def test_the_baseline_arm_is_named_by_what_it_lacks_not_called_real():
    # Its CT nodules are native or composite (crops blended into lung), so "real" would overstate it.
    lines = format_summary("ct", summarise("ct", _ct_rows())).splitlines()
    assert lines[1].startswith("training data only") and "0.9200 ± 0.0200" in lines[1]
    assert lines[2].startswith("+2500 synthetic nodules") and "0.8900 ± 0.0100" in lines[2]
    assert not any(line.startswith("real") for line in lines)
