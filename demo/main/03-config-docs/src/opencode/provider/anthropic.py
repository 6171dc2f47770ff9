import os

from .base import Provider


class AnthropicProvider(Provider):
    def complete(self, model: str, prompt: str) -> str:
        key = os.environ.get(self.config.get("api_key_env", "ANTHROPIC_API_KEY"))
        if not key:
            raise RuntimeError("Anthropic API key is not set")
        raise NotImplementedError("network calls are not part of this demo")
