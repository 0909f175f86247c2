"""The stock-Rasa baseline bot: our intents, NLU data and dialogue structure, Rasa's DIET pipeline, and no custom
code at all, so the load benchmark can say what our NLU component and action server cost on top of plain Rasa.

Everything is derived from the project's own files on each run (never hand-copied, so it cannot drift): every
custom action becomes a response `utter_<name>` with a fixed text, forms and the slots only actions set are
dropped, and so are the steps and rules that exist only for forms. The trained model is cached under a hash of
what went into it, so a rerun skips training.
"""
from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DIET = ROOT / "benchmarks" / "pipelines" / "diet.yml"
NLU_FILES = (ROOT / "data" / "nlu.yml", ROOT / "data" / "lookups.yml")
CUSTOM_COMPONENT_PREFIX = "components."
DEACTIVATE = "action_deactivate_loop"


def response_for(action: str) -> str:
    """The response that stands in for a custom action: `action_view_cart` -> `utter_view_cart`."""
    return "utter_" + action.removeprefix("action_")


def baseline_domain(domain: dict[str, Any]) -> dict[str, Any]:
    """Our domain without forms, custom actions or action-set slots; each custom action is a fixed response."""
    out = copy.deepcopy(domain)
    actions = out.pop("actions", []) or []
    out.pop("forms", None)
    responses = out.setdefault("responses", {})
    for action in actions:
        if action.startswith("action_"):
            responses.setdefault(response_for(action), [{"text": f"(baseline) {action.removeprefix('action_')}"}])
    out["slots"] = {name: slot for name, slot in (out.get("slots") or {}).items()
                    if all(m.get("type") == "from_entity" for m in slot.get("mappings", []))}
    return out


def _step(step: dict[str, Any], forms: set[str]) -> dict[str, Any] | None:
    """One story step for the baseline, or None when the step only exists because of a form."""
    if "active_loop" in step or "slot_was_set" in step:
        return None
    action = step.get("action")
    if action is None:
        return step
    if action in forms or action == DEACTIVATE:
        return None
    return {"action": response_for(action)} if action.startswith("action_") else step


def baseline_steps(steps: list[dict[str, Any]], forms: set[str]) -> list[dict[str, Any]]:
    return [new for step in steps if (new := _step(step, forms)) is not None]


def baseline_stories(data: dict[str, Any], key: str, forms: set[str]) -> list[dict[str, Any]]:
    """Stories or rules (`key`) with custom actions replaced; rules conditioned on a form and entries left without
    an action are dropped, and so are rules that became duplicates."""
    out, seen = [], set()
    for entry in data.get(key) or []:
        if any("active_loop" in c for c in entry.get("condition") or []):
            continue
        steps = baseline_steps(entry["steps"], forms)
        signature = yaml.safe_dump(steps)
        if not any("action" in s for s in steps) or (key == "rules" and signature in seen):
            continue
        seen.add(signature)
        out.append({**{k: v for k, v in entry.items() if k != "condition"}, "steps": steps})
    return out


def baseline_config(config: dict[str, Any], diet: dict[str, Any], epochs: int) -> dict[str, Any]:
    """DIET's pipeline with `epochs`, and our policies with the fallback action mapped like every other action."""
    pipeline = copy.deepcopy(diet["pipeline"])
    for component in pipeline:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
    policies = copy.deepcopy(config["policies"])
    for policy in policies:
        fallback = policy.get("core_fallback_action_name", "")
        if fallback.startswith("action_"):
            policy["core_fallback_action_name"] = response_for(fallback)
    if any(c["name"].startswith(CUSTOM_COMPONENT_PREFIX) for c in pipeline):
        raise ValueError("the baseline pipeline must be stock Rasa")
    return {"recipe": "default.v1", "language": config.get("language", "en"),
            "assistant_id": "load-benchmark-baseline", "pipeline": pipeline, "policies": policies}


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_project(directory: Path, epochs: int) -> list[Path]:
    """Write the baseline's config, domain, stories and rules next to copies of our NLU data; returns the files."""
    domain = _load(ROOT / "domain.yml")
    forms = set((domain.get("forms") or {}).keys())
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "config.yml": baseline_config(_load(ROOT / "config.yml"), _load(DIET), epochs),
        "domain.yml": baseline_domain(domain),
        "stories.yml": {"version": "3.1", "stories": baseline_stories(_load(ROOT / "data" / "stories.yml"),
                                                                      "stories", forms)},
        "rules.yml": {"version": "3.1", "rules": baseline_stories(_load(ROOT / "data" / "rules.yml"), "rules", forms)},
    }
    written = []
    for name, content in files.items():
        path = directory / name
        path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
        written.append(path)
    for source in NLU_FILES:
        path = directory / source.name
        path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(path)
    return written


def trained_model(cache: Path, epochs: int) -> Path:
    """The baseline model for the current project files, trained only when no model with this hash exists."""
    cache = cache.resolve()
    project = cache / "project"
    files = write_project(project, epochs)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    model = cache / f"baseline-{digest.hexdigest()[:16]}.tar.gz"
    if model.exists():
        return model
    rasa = Path(sys.executable).parent / "rasa"
    data = [str(p) for p in files if p.name not in ("config.yml", "domain.yml")]
    with open(cache / "train.log", "wb") as log:
        subprocess.run([str(rasa), "train", "--config", str(project / "config.yml"), "--domain",
                        str(project / "domain.yml"), "--data", *data, "--out", str(cache),
                        "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                       cwd=project, check=True, stdout=log, stderr=subprocess.STDOUT)
    return model
