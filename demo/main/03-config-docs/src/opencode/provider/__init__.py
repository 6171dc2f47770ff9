from .anthropic import AnthropicProvider
from .base import Provider
from .ollama import OllamaProvider
from .openai import OpenAIProvider

PROVIDERS = {"anthropic": AnthropicProvider, "ollama": OllamaProvider, "openai": OpenAIProvider}

__all__ = ["Provider", "PROVIDERS"]
