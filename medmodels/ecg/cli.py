"""Command line: ``python -m medmodels ecg RECORD... --json OUT_DIR``.

``add_ecg_parser(subparsers)`` registers the sub-command; each record (a WFDB
path without extension) is analysed on one lead and written to
``OUT_DIR/<record name>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medmodels.cli_args import output_folder
from medmodels.ecg import AAMI_CLASSES


def analysis_to_json(analysis, lead_name: str, second_lead_name: str | None = None) -> dict:
    """JSON-ready dict of an :class:`~medmodels.ecg.pipeline.EcgAnalysis` (samples in the record's rate)."""
    # cut_at_record_edge: the QRS is not wholly recorded, so the label is Q by rule (pipeline.QRS_EDGE_MARGIN_S).
    beats = [
        {"sample": int(s), "time_s": round(float(s) / analysis.fs, 4), "label": label,
         "prob": {c: round(float(p), 5) for c, p in zip(AAMI_CLASSES, probs)}, "networks_agreeing": int(agree),
         "cut_at_record_edge": bool(cut)}
        for s, label, probs, agree, cut in zip(analysis.beat_samples, analysis.labels, analysis.probabilities,
                                               analysis.networks_agreeing, analysis.cut_at_record_edge)
    ]
    return {"fs": analysis.fs, "lead": lead_name, "second_lead": second_lead_name, "beats": beats,
            "summary": analysis.summary,
            "model": {"name": analysis.model_name, "sha256": analysis.model_sha256,
                      "networks": analysis.n_networks, "leads": analysis.leads}}


def analyse_record(record, lead: str | None = None, model=None, second_lead: str | None = None) -> dict:
    """Analyse the chosen lead of a read record (:func:`medmodels.ecg.reading.read_record`), return the JSON dict.

    ``second_lead``: a precordial lead name, None (automatic: V1, else V2, …; the
    two-lead classifier when the record has one) or ``"none"`` (single-lead).
    ``model`` overrides the classifier (its ``leads`` must match).  A second lead
    left unused for its signal adds ``"notes"`` to the dict.
    """
    from medmodels.ecg.pipeline import analyse_ecg, second_lead_for
    from medmodels.ecg.reading import choose_lead

    column = choose_lead(record.lead_names, lead)
    second, note = (second_lead_for(record.signal, record.lead_names, column, second_lead)
                    if model is None or model.leads == 2 else (None, None))
    analysis = analyse_ecg(record.signal[:, column], record.fs, model,
                           second_lead_mv=None if second is None else record.signal[:, second])
    result = analysis_to_json(analysis, record.lead_names[column], None if second is None else record.lead_names[second])
    if note:
        result["notes"] = [note]
    return result


def analyse_record_file(path: str | Path, lead: str | None = None, model=None, second_lead: str | None = None) -> dict:
    """Read a record, analyse its chosen lead (and second lead), return the JSON dict."""
    from medmodels.ecg.reading import read_record

    return analyse_record(read_record(path), lead, model, second_lead)


def run(args: argparse.Namespace) -> int:
    """Analyse each record into ``args.json``; returns a process exit code."""
    from medmodels.ecg.model import read_card
    from medmodels.ecg.reading import read_record
    from medmodels.ecg_review import untested_lead_note, untested_second_lead_note
    from medmodels.errors import InputError
    from medmodels.provenance import ecg_record_provenance

    out_dir = Path(args.json)
    out_dir.mkdir(parents=True, exist_ok=True)
    card = read_card()
    status = 0
    for record in args.records:
        try:
            read = read_record(record)
            result = analyse_record(read, args.lead, second_lead=args.second_lead)
        except InputError as exc:
            print(f"{record}: {exc}", file=sys.stderr)
            status = 1  # as `info` and `ct`; 2 stays argparse's usage error
            continue
        provenance = ecg_record_provenance(read.name, read.fs, read.signal.shape[0], card)
        if provenance is not None:  # as on the page: a DS1 record's agreement is not a held-out result
            print(f"{record}: note: {provenance.note}", file=sys.stderr)
        for note in [*result.get("notes", []), untested_lead_note(result["lead"]),
                     untested_second_lead_note(result["second_lead"])]:
            if note:
                print(f"{record}: note: {note}", file=sys.stderr)
        target = out_dir / f"{Path(record).name}.json"
        target.write_text(json.dumps(result, indent=1) + "\n")
        summary = result["summary"]
        print(f"{target}: {summary['n_beats']} beats, mean HR {summary['heart_rate']['mean_bpm']} bpm, "
              f"classes {summary['class_counts']}")
    return status


def add_ecg_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``ecg`` sub-command on an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser("ecg", help="detect and classify beats in WFDB records, write JSON")
    parser.add_argument("records", nargs="+", help="WFDB record paths without extension")
    parser.add_argument("--json", type=output_folder, required=True, metavar="OUT_DIR",
                        help="folder for <record name>.json")
    parser.add_argument("--lead", default=None, help="lead name (default MLII, else II, else the first)")
    parser.add_argument("--second-lead", default=None,
                        help="precordial lead for the two-lead classifier (default V1, else V2, ... V6), or 'none' "
                             "for the single-lead classifier; records without one get the single-lead classifier")
    parser.set_defaults(func=run, run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Stand-alone use: ``python -m medmodels.ecg.cli ecg RECORD --json OUT``."""
    parser = argparse.ArgumentParser(prog="python -m medmodels")
    add_ecg_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
