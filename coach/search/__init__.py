"""Finding guide passages: embeddings, the Chroma store, hybrid retrieval and Ask answers."""
