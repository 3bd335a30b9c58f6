"""INT Studio's Gradio app: `python -m demo`, or `from demo.app import build_app` to embed or test it."""
