from pathlib import Path


class ReadTool:
    name = "read"

    def run(self, path: str) -> str:
        return Path(path).read_text(encoding="utf-8")
