"""Chat models behind one factory (embedded SmolLM2, Ollama, OpenAI-compatible, fake), prompt templates and the guard that checks what a model writes."""
