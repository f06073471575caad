"""The Gradio web app: one module per tab plus shared widgets; it only calls the Coach facade."""
