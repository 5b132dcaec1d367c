"""Render the jarvice-tools chart with Helm's own Go SDK (no helm binary).

    python deploy/helm/render.py OUTDIR     one OUTDIR/<scenario>.yaml per
                                             jarvice-tools/ci/*-values.yaml

The tests import `lint`, `render` and `scenarios`; CI renders to files and
security-scans them with checkov. Rendering goes through `helm_python`
(the `deploy` extra), which binds Helm's Go SDK, so what renders here is
what `helm template` renders.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

CHART = Path(__file__).resolve().parent / "jarvice-tools"
RELEASE = "jt"
NAMESPACE = "jarvice"


def scenarios() -> dict[str, dict[str, Any]]:
    """The CI value sets, by name (file name without `-values.yaml`)."""
    found = {}
    for path in sorted((CHART / "ci").glob("*-values.yaml")):
        found[path.name.removesuffix("-values.yaml")] = yaml.safe_load(path.read_text())
    return found


def lint(values: dict[str, Any] | None) -> dict[str, Any]:
    """`helm lint --strict` of the chart with `values`: messages and errors."""
    return helm.lint(CHART, values, strict=True, namespace=NAMESPACE)


def render(values: dict[str, Any] | None) -> dict[str, str]:
    """`helm template`: template path -> rendered text (schema checked first).

    Raises `helm_python.HelmValuesError` when values break values.schema.json.
    """
    with helm.Chart.load(CHART) as chart:
        return dict(
            chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        )


def manifests(values: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every Kubernetes object the chart renders with `values` (NOTES left out)."""
    objects = []
    for path, text in sorted(render(values).items()):
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: render.py OUTDIR\n")
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, values in scenarios().items():
        docs = manifests(values)
        (out / f"{name}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        sys.stdout.write(f"{name}: {len(docs)} objects -> {out / name}.yaml\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
