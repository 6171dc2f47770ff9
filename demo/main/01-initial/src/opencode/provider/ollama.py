import json
import urllib.request

from .base import Provider


class OllamaProvider(Provider):
    def complete(self, model: str, prompt: str) -> str:
        url = self.config.get("base_url", "http://127.0.0.1:11434") + "/api/generate"
        body = json.dumps({"model": model, "prompt": prompt, "stream": False}).encode()
        timeout = self.config.get("timeout_seconds", 120)
        with urllib.request.urlopen(urllib.request.Request(url, body), timeout=timeout) as res:
            return json.load(res)["response"]
