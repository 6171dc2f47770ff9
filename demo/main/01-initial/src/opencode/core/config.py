import tomllib
from pathlib import Path

DEFAULTS = {"default_model": "ollama/qwen2.5-coder:7b", "data_dir": ".opencode", "log_level": "info"}


def load_config(root: Path) -> dict:
    path = root / "opencode.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {**DEFAULTS, **data}
