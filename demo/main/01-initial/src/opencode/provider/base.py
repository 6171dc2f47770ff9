from abc import ABC, abstractmethod


class Provider(ABC):
    """A model back end."""

    def __init__(self, config: dict):
        self.config = config

    @abstractmethod
    def complete(self, model: str, prompt: str) -> str:
        """Return the model's answer to the prompt."""
