"""The model a workspace links with: the choices its settings make, the model it saved and the
settings that model was trained with, and a model frozen for reuse in another workspace.

The trained model is ``model/linkage_model.json`` in the workspace (Splink's JSON); beside it,
``model/linkage_choices.json`` records the ``[link]`` settings that shaped it, so that a change
to any of them retrains the model on the next ``casebridge link`` (a model saved before the
record existed was trained with the defaults). ``casebridge link freeze`` copies the model to
a file; ``model = "FILE"`` in another workspace's ``[link]`` then links with it as it is.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from casebridge.engine import Engine
from casebridge.errors import UsageError, WorkspaceError
from casebridge.link.blocking import rules_of
from casebridge.link.choices import COMPARISON_FIELDS, ModelChoices
from casebridge.link.model import blocking_rule_sql, with_groups
from casebridge.link.prepare import LINK_INPUT, held_fields
from casebridge.link.train import honour_dedupe
from casebridge.workspace import SETTINGS_FILE, LinkSettings, Workspace

logger = logging.getLogger(__name__)
MODEL_FILE = Path("model") / "linkage_model.json"
CHOICES_FILE = Path("model") / "linkage_choices.json"
# the columns a model's SQL reads: "name_l" / "name_r" in its levels, l."name" in its rules
_LEVEL_COLUMN = re.compile(r'"([A-Za-z0-9_]+)_[lr]"')
_RULE_COLUMN = re.compile(r'\b[lr]\."([A-Za-z0-9_]+)"')


def duplicate_free_sources(workspace: Workspace) -> tuple[str, ...]:
    """The keys of the sources declared free of duplicates (``dedupe = false``)."""
    return tuple(source.key for source in workspace.settings.sources if not source.dedupe)


def model_choices(workspace: Workspace) -> ModelChoices:
    """What the workspace's ``[link]`` menu and its sources' ``dedupe`` ask of the model."""
    link = workspace.settings.link
    return ModelChoices(
        comparisons_drop=frozenset(link.comparisons_drop),
        blocking_drop=frozenset(link.blocking_drop),
        blocking_add=frozenset(link.blocking_add),
        identifier_weight=link.identifier_weight,
        location_weight=link.location_weight,
        has_duplicate_free_source=bool(duplicate_free_sources(workspace)),
    )


def trained_with(workspace: Workspace) -> dict[str, object]:
    """The ``[link]`` settings the saved model was trained with (the defaults for a model saved
    before they were recorded)."""
    path = workspace.root / CHOICES_FILE
    if not path.is_file():
        return LinkSettings().model_shaping()
    recorded: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return recorded


def needs_training(workspace: Workspace) -> bool:
    """Whether ``casebridge link`` must train: no saved model, or one trained with other
    ``[link]`` settings than the workspace's."""
    if not (workspace.root / MODEL_FILE).is_file():
        return True
    changed = trained_with(workspace) != workspace.settings.link.model_shaping()
    if changed:
        logger.info("the [link] settings that shape the model changed: training it afresh")
    return changed


def record_choices(workspace: Workspace) -> None:
    """Write the ``[link]`` settings the saved model was made with beside it."""
    path = workspace.root / CHOICES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = workspace.settings.link.model_shaping()
    path.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")


def freeze_model(workspace: Workspace, target: Path, overwrite: bool = False) -> Path:
    """Copy the workspace's trained model to ``target`` for other workspaces to link with (as
    ``model = "FILE"`` in their ``[link]``); return the file written."""
    source = workspace.root / MODEL_FILE
    if not source.is_file():
        raise UsageError(f"no trained model in {workspace.root}: run 'casebridge link' first")
    if target.exists() and not overwrite:
        raise UsageError(f"{target} exists: choose another file, or pass --overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def use_frozen_model(workspace: Workspace, engine: Engine) -> None:
    """Make the workspace's frozen model (``model`` in ``[link]``) its saved model, after
    checking that it compares only what the workspace's records hold (``link_input`` ready).

    The copy in ``model/`` is what ``link explain``, ``link review`` and the audit read."""
    path = _frozen_path(workspace)
    model = _read_frozen(path)
    _check_fits(model, engine)
    target = workspace.root / MODEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    record_choices(workspace)


def _frozen_path(workspace: Workspace) -> Path:
    chosen = workspace.settings.link.model
    assert chosen is not None, "only for a workspace with a frozen model"
    path = Path(chosen)
    return path if path.is_absolute() else workspace.root / path


def _problem(message: str) -> WorkspaceError:
    return WorkspaceError(f"{SETTINGS_FILE}: link.model: {message}")


def _read_frozen(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise _problem(
            f"no file {path}; make one with 'casebridge link freeze --to FILE' in the "
            "workspace that trained it"
        )
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _problem(f"{path} is not JSON ({exc.__class__.__name__})") from exc
    if not (isinstance(model, dict) and {"comparisons", "blocking_rules_to_generate_predictions"}
            <= set(model)):  # fmt: skip
        raise _problem(
            f"{path} is not a linkage model; make one with 'casebridge link freeze --to FILE'"
        )
    return model


def _check_fits(model: dict[str, Any], engine: Engine) -> None:
    """Refuse a frozen model that reads a column ``link_input`` lacks (a model of another
    casebridge version), or compares a field no record of the workspace holds."""
    columns = set(engine.columns(LINK_INPUT))
    rules = [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
    levels = [
        str(level.get("sql_condition", ""))
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
    ]
    read = {c for sql in rules for c in _RULE_COLUMN.findall(sql)}
    read |= {c for sql in levels for c in _LEVEL_COLUMN.findall(sql)}
    missing = sorted(read - columns)
    if missing:
        raise _problem(
            f"the frozen model reads {missing[0]}, which this version of casebridge does not "
            "compare; freeze the model again with this version"
        )
    held = with_groups(held_fields(engine))
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        if name in COMPARISON_FIELDS and COMPARISON_FIELDS[name] not in held:
            raise _problem(
                f"the frozen model compares {name}, which no record of this workspace holds; "
                f'freeze one trained with comparisons_drop = ["{name}"], or remove model to '
                "train on this workspace"
            )


def blocking_rules_in_use(workspace: Workspace, engine: Engine) -> list[str]:
    """The prediction blocking rules the workspace links with, as SQL over ``l`` and ``r``: its
    saved model's, or before any link those its settings give (``link_input`` ready)."""
    choices = model_choices(workspace)
    path = workspace.root / MODEL_FILE
    if not path.is_file():
        return blocking_rule_sql(with_groups(held_fields(engine)), choices)
    return rules_of(honour_dedupe(json.loads(path.read_text(encoding="utf-8")), choices))
