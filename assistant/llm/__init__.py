"""The model side of the assistant: settings, prompt, reply envelope, client, narratives."""
