"""Finding and reading scenario files (YAML worlds)."""
import os
from importlib import resources

import yaml

DEFAULT = "default"


def scenario_dirs():
    """Where named scenarios live: the repository's ``scenarios/`` or the installed copy."""
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [os.path.join(os.path.dirname(here), "scenarios")]
    try:
        dirs.append(str(resources.files("fakeecs._scenarios")))
    except ModuleNotFoundError:
        pass
    return [d for d in dirs if os.path.isdir(d)]


def find(name_or_path):
    """The path of a scenario given by name (``default``) or by path."""
    if os.path.sep in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        if os.path.isfile(name_or_path):
            return name_or_path
        raise FileNotFoundError(f"no scenario file {name_or_path}")
    for directory in scenario_dirs():
        path = os.path.join(directory, name_or_path + ".yaml")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no scenario named {name_or_path!r} "
                            f"(known: {', '.join(available()) or 'none'})")


def available():
    names = set()
    for directory in scenario_dirs():
        names.update(f[:-5] for f in os.listdir(directory) if f.endswith(".yaml"))
    return sorted(names)


def read(name_or_path):
    """The world described by a scenario, as a dict."""
    path = find(name_or_path)
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario must be a mapping at the top level")
    return data
