"""Write models/question_turns.yaml: the labelled interviewer turns of sample_data/dev
that the topic classifier (analyzer.matching.TopicClassifier) learns from.

Each turn keeps its kind (bank, followup, offscript) and competency (null for
small talk, logistics and questions outside the guide). Only dev/ is read, never heldout/: the held-out set must stay unseen.

    python scripts/export_question_turns.py [LABELS_DIR] [OUT]
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.transcripts import read_transcript  # noqa: E402


def labelled_turns(folder: Path) -> list[dict]:
    out = []
    for labels_path in sorted(folder.glob("*.labels.yaml")):
        labels = yaml.safe_load(labels_path.read_text(encoding="utf-8"))
        transcript = read_transcript(folder / labels["transcript"])
        texts = [" ".join(t.text.lower().split()) for t in transcript.turns]
        for item in labels.get("questions") or []:
            needle = " ".join(str(item["asked"]).lower().split())
            index = next((i for i, t in enumerate(texts) if needle in t), None)
            if index is None:
                raise SystemExit(f"{labels_path}: asked {item['asked']!r} is in no turn")
            out.append({"language": labels["language"], "kind": item["kind"], "competency": item.get("competency"),
                        "source": labels_path.name.replace(".labels.yaml", ""),
                        "text": " ".join(transcript.turns[index].text.split())})
    return out


def turns_digest(turns: list[dict]) -> str:
    """What the file's ``sha256`` records: a test compares it with the dev labels of the day."""
    return hashlib.sha256("\n".join(f"{t['language']}|{t['kind']}|{t['competency']}|{t['text']}"
                                     for t in turns).encode()).hexdigest()


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT / "sample_data" / "dev"
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "models" / "question_turns.yaml"
    if "heldout" in folder.parts:
        raise SystemExit("refusing to train on the held-out set")
    turns = labelled_turns(folder)
    digest = turns_digest(turns)
    header = ("# Labelled interviewer turns the topic classifier learns from (besides the bank's wordings).\n"
              "# Written by scripts/export_question_turns.py from sample_data/dev; do not edit by hand.\n")
    body = {"version": "1", "source": str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder),
            "count": len(turns), "sha256": digest, "turns": turns}
    out.write_text(header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")
    by = {}
    for t in turns:
        key = "followup" if t["kind"] == "followup" else t["competency"] or "offscript"
        by[key] = by.get(key, 0) + 1
    print(f"{out}: {len(turns)} turns", dict(sorted(by.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
