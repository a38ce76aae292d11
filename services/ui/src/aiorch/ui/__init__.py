"""aiorch.ui: the Streamlit web UI; it talks only to the gateway."""
