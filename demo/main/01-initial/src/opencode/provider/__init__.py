from .base import Provider
from .ollama import OllamaProvider
from .openai import OpenAIProvider

PROVIDERS = {"ollama": OllamaProvider, "openai": OpenAIProvider}

__all__ = ["Provider", "PROVIDERS"]
