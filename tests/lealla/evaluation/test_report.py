"""Reports: table, JSON shape, chart with two encoders."""

import json

from lealla.evaluation import report


def _report(encoder, scores):
    results = tuple(
        report.LanguageResult(lang, s, {"xx_to_en": s, "pairs": 10}) for lang, s in scores.items()
    )
    return report.EvalReport("tatoeba", "accuracy", encoder, results)


def test_table_json_and_chart(tmp_path):
    student = _report("student", {"deu": 0.5, "fra": 0.75})
    teacher = _report("teacher", {"deu": 1.0, "fra": 0.25})
    table = report.format_table([student, teacher]).splitlines()
    assert table[0].split() == [
        "language",
        "xx_to_en",
        "pairs",
        "accuracy",
        "student",
        "accuracy",
        "teacher",
    ]
    assert table[2].split() == ["deu", "0.5000", "10", "0.5000", "1.0000"]
    assert table[-1].split() == ["average", "0.6250", "0.6250"]
    combined = json.loads(json.dumps(report.combined_dict([student, teacher])))
    assert combined["average"] == 0.625 and combined["per_language"] == {"deu": 0.5, "fra": 0.75}
    assert combined["reference"]["encoder"] == "teacher"
    path = tmp_path / "chart.png"
    report.write_chart(str(path), [student, teacher])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
