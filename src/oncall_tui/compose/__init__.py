"""The app's composition: config, store, secrets, demo, backends and engine, built
once (``open_app_context``) and handed down to the UI and the commands."""
