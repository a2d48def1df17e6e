"""OmniPath web service: download current directed, signed interactions as a prior file.

The file lands under ``$AITIA_HOME/priors/omnipath.tsv`` (written to a temporary name and renamed, so a failed
download leaves nothing half-written) with ``omnipath.json`` beside it recording the URL, date, row count and
SHA-256. ``load_prior("omnipath")`` reads it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from pathlib import Path

from ...config import get_settings
from .http import ConnectorError, PoliteClient

#: columns of the prior file aitia writes (those of its shipped signalling priors)
COLUMNS = ("source", "target", "sign", "sources", "pmids")


def omnipath_path() -> Path:
    """Where ``aitia priors download omnipath`` puts the prior."""
    return get_settings().home / "priors" / "omnipath.tsv"


def download_omnipath(base_url: str | None = None, license: str = "academic", dataset: str = "omnipath",
                      out: Path | None = None) -> Path:  # fmt: skip
    """Download directed OmniPath interactions with gene symbols, signs, resources and references.

    Args:
        base_url: service base (default ``AITIA_OMNIPATH_URL``).
        license: ``academic`` or ``commercial`` (OmniPath filters resources by licence).
        dataset: OmniPath dataset(s), e.g. ``omnipath`` (signalling) or ``collectri`` (TF -> target).
        out: file to write (default :func:`omnipath_path`).
    """
    s = get_settings()
    url = (base_url or s.omnipath_url).rstrip("/") + "/interactions"
    client = PoliteClient("omnipath", requests_per_second=2.0, cache_dir=None, timeout_s=120.0)
    text = client.get(url, {"genesymbols": "yes", "fields": "sources,references", "datasets": dataset,
                            "license": license, "directed": "yes", "format": "tsv"})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    need = {"source_genesymbol", "target_genesymbol", "is_stimulation", "is_inhibition"}
    if not rows or not need <= set(rows[0]):
        raise ConnectorError(f"OmniPath answered without the expected columns {sorted(need)}: {text[:120]!r}")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        stim, inh = r["is_stimulation"] in ("1", "True"), r["is_inhibition"] in ("1", "True")
        sign = 1 if stim and not inh else -1 if inh and not stim else 0
        pmids = [ref.split(":")[-1] for ref in (r.get("references") or "").split(";") if ref]
        w.writerow(
            [
                r["source_genesymbol"],
                r["target_genesymbol"],
                sign,
                r.get("sources", ""),
                ";".join(dict.fromkeys(pmids)),
            ]
        )
    data = buf.getvalue()
    out = Path(out) if out else omnipath_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(data, encoding="utf-8")
    tmp.replace(out)
    meta = {"url": url, "dataset": dataset, "license": license, "rows": len(rows),
            "downloaded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sha256": hashlib.sha256(data.encode()).hexdigest()}  # fmt: skip
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    return out
