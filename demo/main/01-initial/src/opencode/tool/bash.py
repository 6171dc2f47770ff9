import subprocess


class BashTool:
    name = "bash"

    def __init__(self, timeout_seconds: int = 60):
        self.timeout_seconds = timeout_seconds

    def run(self, command: str) -> str:
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=self.timeout_seconds)
        return done.stdout + done.stderr
